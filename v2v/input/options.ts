/** What the command line gives every input (`-if`, `-ip`, `-ic`) and where it reports. */
export interface InputOptions {
  /** `-if FORMAT`: the disks' format (-i disk), instead of probing. */
  format?: string;
  /** `-ip FILE`: the password for `-ic` (vpx://). */
  passwordFile?: string;
  /** `-ic URI`: the source hypervisor (vpx://user@server/Datacenter/host/esxi?no_verify=1). */
  connection?: string;
  /** `--cacert FILE`: the CA certificates (PEM) that vCenter's certificate is checked against, instead of the system's. */
  caFile?: string;
  warn: (message: string) => void;
  debug?: (message: string) => void;
}
