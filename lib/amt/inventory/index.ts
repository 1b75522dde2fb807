/** Asset inventory over AMT: read (read.ts), decode (decode.ts), flatten for CSV (row.ts). */
export { readInventory } from './read';
export { inventoryRow, ROW_COLUMNS } from './row';
export type { InventoryRow } from './row';
export * from './types';
