/**
 * An inspection worker of `virt-inspector --each` (inspect-each.ts): inspect each image the
 * main thread sends, and send back its line. A module of its own, so that it is also a bundle
 * of its own next to the commands in dist/bin.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inspectOne, type WorkerSetup } from './inspect-each.js';
import { enableRemote } from './remote.js';

const setup = workerData as WorkerSetup;
enableRemote(setup.flags, 'virt-inspector');
parentPort!.on('message', (disk) => {
  void inspectOne(disk, setup.applications).then((d) => parentPort!.postMessage(d));
});
