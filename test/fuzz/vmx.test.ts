import { fuzzTest } from './ci.js';

fuzzTest('vmx', 300);
