export { isJunk, unsafeEntryFault } from './entries.ts';
