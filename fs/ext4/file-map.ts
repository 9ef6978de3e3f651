/** How a file's logical blocks map to device blocks: extent trees and old block maps answer alike. */

/** A run of logical blocks starting at `lblk`: on the device at `pblk`, or zeros when `pblk` is 0. */
export interface Run {
  lblk: number;
  pblk: number;
  len: number;
  /** Allocated but unwritten (reads as zeros, still uses space). */
  unwritten?: boolean;
}

export interface FileMap {
  /** The run containing `lblk`, at most `maxLen` blocks long. */
  map(lblk: number, maxLen: number): Promise<Run>;
}
