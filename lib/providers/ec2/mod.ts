/**
 * Amazon EC2 as a kind of provider: what the driver knows of it before opening one (its
 * settings, its template section, what it cannot do) and how to open one for a host.
 *
 * @module
 */

import type { HostSettings } from "../../core/config.ts";
import type { Ec2Api } from "./api.ts";
import type { ActionTime, ProviderKind, UsageReader } from "../../core/provider.ts";
import {
  EC2_SETTING_KEYS,
  type Ec2Connection,
  ec2ListingScope,
  parseEc2Connection,
} from "./settings.ts";
import { templateKeyProblem } from "./template_keys.ts";
import { EC2_TEMPLATE_SETTINGS, ec2EnvironmentSources } from "./setting_sources.ts";
import { checkInstanceId } from "./instance_id.ts";

/** Why EC2 cannot do each OpenNebula action it does not support. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  attach_disk: "EC2 instances use EBS volumes, not OpenNebula datastore images",
  detach_disk: "EC2 instances use EBS volumes, not OpenNebula datastore images",
  attach_nic: "EC2 network interfaces belong to VPC subnets, not OpenNebula virtual networks",
  detach_nic: "EC2 network interfaces belong to VPC subnets, not OpenNebula virtual networks",
  snapshot_create: "use checkpoint, which records the instance as an EC2 image",
  snapshot_revert: "an EC2 instance cannot be reverted in place to an image",
  snapshot_delete: "VM snapshots are not kept by this driver",
  resize_disk: "EC2 instances use EBS volumes, not OpenNebula datastore images",
  resize: "change the instance type by redeploying the VM with another INSTANCETYPE",
  prereconfigure:
    "the context CD-ROM of OpenNebula does not exist on EC2 (context goes in user data)",
  reconfigure: "the context CD-ROM of OpenNebula does not exist on EC2 (context goes in user data)",
  update_sg: "OpenNebula security groups are not EC2 security groups (use SECURITYGROUPIDS)",
  migrate_local: "there is nothing local to migrate on EC2",
};

/**
 * The period of the CloudWatch datapoints read, in seconds: EC2's basic monitoring publishes one
 * per 5 minutes (detailed monitoring's 1-minute ones are summed and averaged into it), so a
 * host's usage is read at most every 5 minutes.
 */
const CLOUDWATCH_PERIOD_SECONDS = 300;

/**
 * The preflight's clients, by connection settings: hosts of one account and region (and
 * endpoint, profile, role) share one.
 */
const preflightApis = new Map<string, Ec2Api>();

/** Amazon EC2 (and EC2-compatible clouds). */
export const EC2_KIND: ProviderKind = {
  name: "ec2",
  label: "the EC2 driver",
  sectionType: "ec2",
  settingKeys: EC2_SETTING_KEYS,
  secretKeys: ["secretAccessKey", "sessionToken"],
  templateSettings: EC2_TEMPLATE_SETTINGS,
  environmentSources: (settings, env) =>
    ec2EnvironmentSources(settings.connection as Ec2Connection, env),
  parseConnection: parseEc2Connection,
  templateKeyProblem,
  unsupported: UNSUPPORTED,
  crossLocationMigration:
    "an EC2 instance cannot move to another region, account or endpoint; undeploy the VM and deploy it there instead",
  checkDeployId: checkInstanceId,
  listingScope: (settings, env) => ec2ListingScope(settings.connection as Ec2Connection, env),
  usageReader(settings: HostSettings, time: ActionTime): UsageReader | undefined {
    const connection = settings.connection as Ec2Connection;
    if (!connection.cloudWatch) return undefined;
    // Loaded on the first read: a run served remembered figures loads nothing of CloudWatch.
    let reader: Promise<UsageReader> | undefined;
    return {
      service: "CloudWatch",
      periodSeconds: CLOUDWATCH_PERIOD_SECONDS,
      read: async (ids, start, end) =>
        (await (reader ??= import("./cloudwatch_api.ts").then((m) =>
          m.cloudWatchReader(connection, settings.host, CLOUDWATCH_PERIOD_SECONDS, time)
        ))).read(ids, start, end),
    };
  },
  async open(settings: HostSettings, time: ActionTime) {
    // Loaded here, not at start-up: an action refused for its arguments or configuration never
    // pays for the provider's code.
    const [{ createEc2Api }, { Ec2Provider }] = await Promise.all([
      import("./api.ts"),
      import("./provider.ts"),
    ]);
    const api = createEc2Api(settings.connection as Ec2Connection, time);
    return new Ec2Provider(api, settings, time.signal);
  },
  async preflight(settings: HostSettings, signal: AbortSignal) {
    const [{ createEc2Api }, { cloudWatchCheck, ec2Preflight }] = await Promise.all([
      import("./api.ts"),
      import("./preflight.ts"),
    ]);
    const connection = settings.connection as Ec2Connection;
    const key = JSON.stringify(connection);
    let api = preflightApis.get(key);
    if (api === undefined) preflightApis.set(key, api = createEc2Api(connection, { signal }));
    const checks = await ec2Preflight(settings, api);
    if (!connection.cloudWatch) return checks;
    return [...checks, await cloudWatchCheck(settings, CLOUDWATCH_PERIOD_SECONDS, signal)];
  },
};
