#!/usr/bin/env node
import '../dist/kash.js';
