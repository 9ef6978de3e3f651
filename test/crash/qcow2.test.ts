/** Crash consistency of qcow2 writes (an ext4 inside a qcow2) behind a guestmount daemon killed at seeded points. */
import { crashTest } from './suite.js';

crashTest('qcow2');
