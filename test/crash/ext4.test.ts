/** Crash consistency of ext4 writes (journaled) behind a guestmount daemon killed at seeded points. */
import { crashTest } from './suite.js';

crashTest('ext4');
