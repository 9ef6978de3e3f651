/** Crash consistency of fat writes behind a guestmount daemon killed at seeded points. */
import { crashTest } from './suite.js';

crashTest('fat');
