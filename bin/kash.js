#!/usr/bin/env node
require('../dist/kash.cjs');
