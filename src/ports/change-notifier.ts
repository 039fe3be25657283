import type { ApiKeyRecord } from "../domain/api-key.js";

/**
 * Told of every change that can alter a verdict, so that caches (this
 * process's and other replicas') drop what they hold.
 */
export interface ChangeNotifier {
  /** A key changed; `staleHashes` are secrets that no longer match it as before. */
  keyChanged(record: ApiKeyRecord, ...staleHashes: string[]): Promise<void>;
  organizationChanged(organizationId: string): Promise<void>;
}

/** For a process with no cache to keep fresh. */
export const NO_CHANGE_NOTIFIER: ChangeNotifier = {
  keyChanged: async () => {},
  organizationChanged: async () => {},
};
