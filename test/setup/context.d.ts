// Types for the values test/setup/global-setup.ts provides to tests via inject().
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** redis://127.0.0.1:PORT of the shared, throwaway Redis. */
    redisUrl: string;
    /** MONGODB_URI if set, else the URI of the shared, throwaway FerretDB. */
    mongoUri: string;
  }
}
