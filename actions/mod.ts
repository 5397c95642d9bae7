/**
 * Every action the driver ships, by the file name oned runs. Loaded lazily, so an action
 * pays only for the modules it imports. `scripts/build.ts` writes one executable per entry.
 *
 * @module
 */

import type { Action } from "../lib/runtime/action.ts";

/** Loads one action. */
type ActionLoader = () => Promise<Action>;

const unsupportedNames: string[] = [];
const unsupported = (name: string): ActionLoader => {
  unsupportedNames.push(name);
  return () => import("./unsupported.ts").then((m) => m.unsupported(name));
};

/** VMM actions, under `remotes/vmm/<name>/`, and the operator's `doctor` beside them. */
export const VMM_ACTIONS: Readonly<Record<string, ActionLoader>> = {
  deploy: () => import("./deploy.ts").then((m) => m.default),
  poll: () => import("./poll.ts").then((m) => m.default),
  shutdown: () => import("./shutdown.ts").then((m) => m.default),
  cancel: () => import("./cancel.ts").then((m) => m.default),
  save: () => import("./save.ts").then((m) => m.default),
  restore: () => import("./restore.ts").then((m) => m.default),
  reboot: () => import("./reboot.ts").then((m) => m.default),
  reset: () => import("./reset.ts").then((m) => m.default),
  checkpoint: () => import("./checkpoint.ts").then((m) => m.default),
  migrate: () => import("./migrate.ts").then((m) => m.default),
  attach_disk: unsupported("attach_disk"),
  detach_disk: unsupported("detach_disk"),
  attach_nic: unsupported("attach_nic"),
  detach_nic: unsupported("detach_nic"),
  snapshot_create: unsupported("snapshot_create"),
  snapshot_revert: unsupported("snapshot_revert"),
  snapshot_delete: unsupported("snapshot_delete"),
  resize_disk: unsupported("resize_disk"),
  resize: unsupported("resize"),
  prereconfigure: unsupported("prereconfigure"),
  reconfigure: unsupported("reconfigure"),
  update_sg: unsupported("update_sg"),
  migrate_local: unsupported("migrate_local"),
  // Not an action oned runs: the operator's preflight, built beside the actions as
  // `vmm/<name>/doctor` so that it runs with their program and configuration.
  doctor: () => import("./doctor.ts").then((m) => m.default),
};

/**
 * Information (IM) probes and the operator's orphan listing, by action name. Where each is
 * installed is `scripts/build.ts`'s `IM_LAYOUT`.
 */
export const IM_ACTIONS: Readonly<Record<string, ActionLoader>> = {
  im_poll: () => import("./im_probes.ts").then((m) => m.imPoll),
  host_system: () => import("./im_probes.ts").then((m) => m.hostSystem),
  host_monitor: () => import("./im_probes.ts").then((m) => m.hostMonitor),
  vm_monitor: () => import("./im_probes.ts").then((m) => m.vmMonitor),
  vm_status: () => import("./im_probes.ts").then((m) => m.vmStatus),
  orphans: () => import("./im_probes.ts").then((m) => m.orphans),
};
