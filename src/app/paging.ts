/** Page sizes of every list (keys, audit events): 1..100, default 20. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
