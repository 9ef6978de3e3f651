import { fuzzTest } from './ci.js';

fuzzTest('libvirtxml', 300);
