/** What inspection reports for each operating system, as virt-inspector's XML names it. */

export interface Application {
  name: string;
  displayName?: string;
  epoch?: number;
  version?: string;
  release?: string;
  arch?: string;
  installPath?: string;
  publisher?: string;
  url?: string;
  sourcePackage?: string;
  summary?: string;
  description?: string;
}

export interface FilesystemInfo {
  device: string;
  type: string;
  label: string;
  uuid: string;
}

export interface OsInfo {
  /** Device name of the root filesystem ("/dev/sda2", "/dev/vg0/root"). */
  root: string;
  /** 'linux' | 'windows', as virt-inspector's <name>. */
  type: string;
  distro: string;
  productName: string;
  productVariant: string;
  majorVersion: number;
  minorVersion: number;
  arch: string;
  hostname: string;
  packageFormat: string;
  packageManagement: string;
  /** libosinfo short id ("debian12", "win10"). */
  osinfo: string;
  windowsSystemroot?: string;
  windowsCurrentControlSet?: string;
  /** Windows: EditionID ("Professional", "ServerStandard") and CurrentBuildNumber. */
  windowsEdition?: string;
  windowsBuild?: string;
  /** Linux: from fstab; Windows: the root at "/". Root first, then by depth. */
  mountpoints: { mountpoint: string; device: string }[];
  /** Windows drive letters from MountedDevices ("C" → "/dev/sda2"); empty elsewhere. */
  driveLetters: { letter: string; device: string }[];
  /** The filesystems this OS uses (its mountpoints and swap). */
  filesystems: FilesystemInfo[];
  applications?: Application[];
}

export interface Inspection {
  oses: OsInfo[];
  /** What could not be read (a bad hive, an unreadable filesystem); inspection went on. */
  warnings: string[];
}
