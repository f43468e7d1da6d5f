// The types of node-binaries.mjs, which runs untranspiled under `npm run test:node`.
export declare const SUPPORTED_MAJORS: string[];
export declare function majorsFrom(value: string | undefined): string[];
export declare function unsupportedPlatform(what: string): string | undefined;
export declare function nodeOf(major: string): Promise<{ version: string; binary: string }>;
