/** Types of scripts/catalogs.js (used by the build, so plain JavaScript). */
export declare const nodesDir: string;
export declare const sharedDir: string;
export declare function catalogLanguages(type: string): string[];
export declare function mergedCatalog(type: string, lang: string): Record<string, unknown>;
export declare function writeCatalogs(type: string, outDir: string): void;
