/**
 * A partner OpenNebula cloud as a kind of provider (`"provider": "opennebula"`): its settings,
 * its template section (`PUBLIC_CLOUD=[TYPE="opennebula", TEMPLATE_ID=...]`), what it cannot
 * do, and how to open one for a host. Loads no client until a provider is opened.
 *
 * @module
 */

import type { HostSettings } from "../../core/config.ts";
import type { Check } from "../../core/preflight.ts";
import type { ActionTime, ProviderKind } from "../../core/provider.ts";
import {
  ONE_CLOUD_SECRET_KEYS,
  ONE_CLOUD_SETTING_KEYS,
  type OneCloudConnection,
  parseOneCloudConnection,
} from "./settings.ts";
import { templateKeyProblem } from "./template_keys.ts";
import { partnerIdOf } from "./vm.ts";

const DISKS = "the partner VM's disks are the partner template's, not this OpenNebula's images";
const NICS = "the partner VM's networks are the partner template's, not this OpenNebula's";

/** Why the driver does not do each OpenNebula action on a partner cloud. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  attach_disk: DISKS,
  detach_disk: DISKS,
  resize_disk: DISKS,
  attach_nic: NICS,
  detach_nic: NICS,
  update_sg: NICS,
  snapshot_create: "use checkpoint, which takes a snapshot of the VM on the partner cloud",
  snapshot_revert: "VM snapshots are not kept by this driver",
  snapshot_delete: "VM snapshots are not kept by this driver",
  resize: "the size is the partner template's; redeploy the VM from another TEMPLATE_ID",
  prereconfigure: "the context is passed when the partner VM is instantiated",
  reconfigure: "the context is passed when the partner VM is instantiated",
  migrate_local: "there is nothing local to migrate on a partner cloud",
};

/** A partner OpenNebula cloud, reached over its XML-RPC API. */
export const ONE_CLOUD_KIND: ProviderKind = {
  name: "opennebula",
  label: "the partner OpenNebula cloud driver",
  sectionType: "opennebula",
  settingKeys: ONE_CLOUD_SETTING_KEYS,
  secretKeys: ONE_CLOUD_SECRET_KEYS,
  templateSettings: [],
  environmentSources: () => [],
  parseConnection: parseOneCloudConnection,
  templateKeyProblem,
  unsupported: UNSUPPORTED,
  crossLocationMigration:
    "a partner VM cannot move to another partner cloud or user; undeploy the VM and deploy it there instead",
  checkDeployId(id: string) {
    partnerIdOf(id);
  },
  listingScope(settings: HostSettings) {
    // The partner user's pool: the endpoint and the user (or the file that names it).
    const { endpoint, user, authFile } = settings.connection as OneCloudConnection;
    return JSON.stringify([endpoint, user ?? null, authFile ?? null]);
  },
  async open(settings: HostSettings, time: ActionTime) {
    const [{ PartnerApi }, { OneCloudProvider }, { keptRelease }] = await Promise.all([
      import("./api.ts"),
      import("./provider.ts"),
      import("./kept_release.ts"),
    ]);
    const api = new PartnerApi(settings.connection as OneCloudConnection, time);
    return new OneCloudProvider(api, settings, time.signal, keptRelease(settings));
  },
  async preflight(settings: HostSettings, signal: AbortSignal): Promise<Check[]> {
    const [{ PartnerApi }, { partnerPreflight }] = await Promise.all([
      import("./api.ts"),
      import("./preflight.ts"),
    ]);
    const api = new PartnerApi(settings.connection as OneCloudConnection, { signal });
    return await partnerPreflight(settings, api);
  },
};
