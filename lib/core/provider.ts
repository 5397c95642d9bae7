/**
 * The seam between actions and clouds. Actions see only these types: each operation says what
 * OpenNebula wants (launch, power off and why, resume, terminate, ...) and returns when the
 * cloud has done it; how a cloud gets there (its calls, its state names, its waits and quirks)
 * stays behind the seam, in `lib/<provider>/`. A provider is chosen by the host's configuration
 * (`provider`, `ec2` by default) through its {@link ProviderKind}.
 *
 * @module
 */

import type { HostSettings } from "./config.ts";
import type { Check } from "./preflight.ts";

/**
 * The kinds of provider a driver knows, handed to the configuration by the program that
 * composes the driver (`lib/runtime/host.ts` with `lib/providers/mod.ts`), so the core never
 * imports a provider.
 */
export interface ProviderKinds {
  /** The kinds, by the name a host's `provider` setting uses. */
  readonly byName: Readonly<Record<string, ProviderKind>>;
  /** The name of the kind that serves a host that names none. */
  readonly defaultName: string;
}

/** An action's time: the signal that ends it, and when that will be. */
export interface ActionTime {
  /** Aborts when the action's deadline passes. */
  readonly signal: AbortSignal;
  /**
   * When the signal will abort, in milliseconds since the epoch: the budget every retry of a
   * cloud call is measured against.
   */
  deadline(): number;
}

/**
 * Where an instance is in its life, in words every cloud can map its own states onto:
 * `pending` (being created or started), `running`, `stopping` and `stopped` (powered off,
 * suspended or undeployed, kept with its disks), `terminating` and `terminated` (gone for
 * good), `unknown` (a state the provider cannot place).
 */
export type InstanceState =
  | "pending"
  | "running"
  | "stopping"
  | "stopped"
  | "terminating"
  | "terminated"
  | "unknown";

/** One cloud instance, flattened from the provider's own representation once. */
export interface Instance {
  /** The provider's id: the deploy id OpenNebula stores. */
  readonly id: string;
  /** Where the instance is, in provider-neutral words. */
  readonly state: InstanceState;
  /** The provider's own name for the state (EC2's `shutting-down`), for messages and facts. */
  readonly nativeState: string;
  /** Memory given to the instance in KiB, when known. */
  readonly memoryKiB?: number;
  /** Its size in the cloud's words (EC2's instance type), when known. */
  readonly size?: string;
  /**
   * What the cloud account's quota charges for it, where that is not its size and the cloud
   * says (a partner OpenNebula VM: its template's `CPU` and `MEMORY`).
   */
  readonly charged?: QuotaCharge;
  /** The OpenNebula VM the driver launched the instance for, when it is tagged with one. */
  readonly ownerVmId?: number;
  /** The OpenNebula host it was launched for (or moved to), when this driver marked it. */
  readonly ownerHost?: string;
  /** Provider facts for the monitoring string, keys without prefix (`PUBLIC_IP_ADDRESS`). */
  readonly facts: Readonly<Record<string, string>>;
}

/** The resources of one instance size (EC2's instance type). */
export interface Size {
  /** Virtual CPUs. */
  readonly vcpus: number;
  /** Memory in MiB. */
  readonly memoryMiB: number;
}

/**
 * What a cloud account's quota charges for an instance, where that is not its size: OpenNebula
 * charges a VM its template's `CPU` (a share of CPUs: 0.5 is half of one) and `MEMORY`,
 * whatever its `VCPU`.
 */
export interface QuotaCharge {
  /** CPUs, as the quota counts them. */
  readonly cpu: number;
  /** Memory in MiB. */
  readonly memoryMiB: number;
}

/** An instance as a host's listing sees it: what the host probes need besides its state. */
export interface ListedInstance extends Instance {
  /** Its name in the cloud (EC2's `Name` tag), when it has one. */
  readonly name?: string;
  /**
   * Whether this driver launched it (marked as such), or the host probes found OpenNebula has
   * imported it (a VM with its id as deploy id); false for a wild instance.
   */
  readonly launchedByDriver: boolean;
  /** Virtual CPUs, when the listing says. */
  readonly vcpus?: number;
  /**
   * When the instance was launched, or last started (epoch seconds), when the cloud says: an
   * instance started before an OpenNebula VM was created cannot be that VM's.
   */
  readonly launchedAt?: number;
  /**
   * The OpenNebula VM id another driver recorded on it when it launched it (OpenNebula's
   * built-in EC2 driver tagged `ONE_ID`), for an instance this driver has not marked: a claim,
   * which the host probes adopt only once oned confirms it (that VM, on the host, has this
   * instance as its deploy id). Such an instance is never offered for import.
   */
  readonly recordedVmId?: number;
  /**
   * The provider's template section that would launch it again (`AMI`, `INSTANCETYPE`, ...),
   * for importing a wild instance into OpenNebula.
   */
  readonly sectionAttributes: Readonly<Record<string, string>>;
}

/** The provider's template section of a deployment, as the deploy action selected it. */
interface TemplateSection {
  /** Which kind of section it came from, for messages: `PUBLIC_CLOUD`, or a legacy name (`EC2`). */
  readonly origin: string;
  /** Attributes with upper-case keys and trimmed values (`TYPE` excluded). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** What deploy hands a provider: everything it needs, already parsed from OpenNebula's files. */
export interface LaunchRequest {
  /** OpenNebula VM id. */
  readonly vmId: number;
  /** OpenNebula host name the VM is deployed to. */
  readonly host: string;
  /** The VM's name, when the deployment names it. */
  readonly vmName?: string;
  /** The VM's creation time (epoch seconds), when the deployment has one. */
  readonly startTime?: number;
  /** Name of the deployment file (e.g. `deployment.0`): distinguishes a new deploy from a retry. */
  readonly deploymentName: string;
  /** The provider's section of the template. */
  readonly section: TemplateSection;
  /**
   * What OpenNebula reserves for the VM on the host (`VCPU`, else `CPU` rounded up, and
   * `MEMORY`), when the deployment says: a provider whose sizes are not named by the section
   * can count the launch against the host's capacity with it.
   */
  readonly reserved?: Size;
  /**
   * The VM's `CONTEXT` rendered for the guest in the format the section asks for, or
   * undefined when there is nothing to pass on.
   */
  renderContext(format: ContextFormat): string | undefined;
  /**
   * The VM's `CONTEXT` variables that mean something away from OpenNebula's own hosts (the
   * context disk, virtual networks and files left out), for a provider whose guests read
   * OpenNebula's context themselves (a partner OpenNebula cloud); undefined when none.
   */
  contextVariables(): Readonly<Record<string, string>> | undefined;
}

/** How a VM's context reaches its guest: a cloud-init document, or one-context's shell lines. */
export type ContextFormat = "cloud-config" | "shell";

/** Why OpenNebula powers a VM off: each may keep a different amount of the VM in the cloud. */
export type PowerOffReason = "poweroff" | "undeploy" | "suspend";

/** How to power off. */
export interface PowerOffOptions {
  /** Skip the guest's orderly shutdown. */
  readonly hard: boolean;
  /** What OpenNebula is doing. */
  readonly reason: PowerOffReason;
}

/** How an instance ended: terminated by the cloud, or unknown to it (nothing left to end). */
export type TerminateOutcome = "terminated" | "gone";

/**
 * A cloud that OpenNebula sees as a host. Every operation is safe to repeat (oned retries
 * actions) and returns only once the cloud has done it, or fails saying why.
 */
export interface Provider {
  /** Prefix of the facts in the monitoring string (`AWS`). */
  readonly factPrefix: string;
  /**
   * Where this host's instances live (account, region, endpoint). Two hosts with the same
   * location see the same instances, so moving a VM between them needs no work.
   */
  readonly location: string;
  /** The location in words, for messages (`region us-east-1`). */
  readonly locationLabel: string;

  /**
   * Checks a launch request without calling the cloud and returns a function that performs it.
   * Validation errors surface here, before any API call.
   *
   * @throws {InvalidInputError} when the template section is invalid.
   */
  prepareLaunch(request: LaunchRequest): PreparedLaunch;

  /**
   * Describes one instance.
   *
   * @throws {NotFoundError} when the cloud does not know the id (which, shortly after launch,
   * is not proof that it is gone).
   * @throws {InvalidInputError} when the id is not a valid id for this provider.
   */
  describe(id: string): Promise<Instance>;

  /**
   * Lists the live instances the driver launched for a VM on a host, found by what every
   * launch marks them with. For a VM whose deploy never returned an id.
   */
  findLaunched(vmId: number, host: string): Promise<Instance[]>;

  /**
   * Lists every instance of the host's account and region that the cloud still reports,
   * terminated ones included, with as few requests as the cloud allows (for EC2, one paginated
   * DescribeInstances of up to 1,000 instances a page). For the host probes.
   */
  list(): Promise<ListedInstance[]>;

  /**
   * Lists the pending and running instances this driver launched for a host: what holds the
   * host's capacity. One filtered request where the cloud allows it (for EC2, DescribeInstances
   * by the driver's tags and states, a plain one where the filters are refused), every instance
   * checked again on our side.
   *
   * @param host OpenNebula host name.
   */
  listForHost(host: string): Promise<ListedInstance[]>;

  /**
   * The resources of instance sizes, for capacity figures. Sizes the provider does not know
   * are left out of the answer.
   *
   * @param names Size names (EC2 instance types).
   */
  sizes(names: readonly string[]): Promise<ReadonlyMap<string, Size>>;

  /**
   * Powers an instance off, keeping it (and as much of it as `reason` needs), and returns once
   * it is off. Powering off one that is off succeeds.
   */
  powerOff(id: string, options: PowerOffOptions): Promise<Instance>;

  /**
   * Brings a powered-off instance back and returns once it runs. Resuming a running one
   * succeeds.
   *
   * @throws {CloudError} when the instance is terminated or terminating.
   */
  resume(id: string): Promise<Instance>;

  /** Reboots a running instance in place (an orderly restart of the guest). */
  reboot(id: string): Promise<void>;

  /** Restarts a running instance hard, and returns once it runs again. */
  reset(id: string): Promise<Instance>;

  /**
   * Terminates an instance and returns once it is terminated. One already terminated, or that
   * the cloud still does not know after the provider's grace period, counts as ended.
   */
  terminate(id: string): Promise<TerminateOutcome>;

  /**
   * Asks the cloud to terminate an instance and returns once the request is accepted, without
   * waiting for the instance to end (a host probe must not block on it). One the cloud does not
   * know counts as done.
   */
  requestTerminate(id: string): Promise<void>;

  /**
   * Records a running instance without stopping it, as a machine image.
   *
   * @param name A name for the record, unique for this VM.
   * @param vmId The OpenNebula VM id, to mark the record with.
   * @returns the provider's id of the record (for EC2, an AMI id).
   */
  snapshot(id: string, name: string, vmId: number): Promise<string>;

  /**
   * Marks an instance as its VM's on another host of the same location, once OpenNebula has
   * moved the VM there (migrate): that host's probes report it from then on, and the old host's
   * no longer do. Changes nothing else; marking it again succeeds.
   *
   * @param id The instance.
   * @param host The OpenNebula host the VM is on now.
   * @param vmId The OpenNebula VM id.
   */
  rehome(id: string, host: string, vmId: number): Promise<void>;

  /**
   * Marks an instance another driver launched as this driver's, for the VM oned has it as
   * (its deploy id) on a host, so that it is found, counted and reported as the instances this
   * driver launched are. Changes nothing else; marking it again succeeds. Providers whose
   * clouds had no earlier OpenNebula driver to take over from leave it out.
   *
   * @param id The instance.
   * @param host The OpenNebula host the VM is on.
   * @param vmId The OpenNebula VM id.
   */
  adopt?(id: string, host: string, vmId: number): Promise<void>;

  /**
   * The account's own limits, for a provider whose cloud caps what an account may hold (a
   * partner OpenNebula user's quota): a host without a configured capacity takes its capacity
   * from them. Providers without such limits leave it out.
   */
  quotaCapacity?(): Promise<AccountQuota>;
}

/** One limit of an account, and how much of it is used now. */
export interface QuotaFigure {
  /** What the account may hold in all. */
  readonly limit: number;
  /** What it holds now. */
  readonly used: number;
  /**
   * Whether the limit counts only pending and running instances (OpenNebula's `RUNNING_*`
   * quotas), rather than every instance that still exists.
   */
  readonly runningOnly: boolean;
}

/**
 * What a cloud account may hold, where the cloud caps it (a partner OpenNebula user's VM
 * quota): each total with every limit that applies to it; a total without limits is unlimited.
 */
export interface AccountQuota {
  /** Limits on virtual CPUs. */
  readonly vcpus: readonly QuotaFigure[];
  /** Limits on memory, GiB. */
  readonly memoryGiB: readonly QuotaFigure[];
  /** Limits on the number of instances. */
  readonly instances: readonly QuotaFigure[];
}

/** One reading of a metric over one period: when the period began (epoch ms), and its value. */
export interface Datapoint {
  /** Start of the period, in milliseconds since the epoch. */
  readonly at: number;
  /** The statistic over the period (an average, or a sum). */
  readonly value: number;
}

/**
 * What a cloud's metrics service says of one instance over a time range, period by period:
 * its CPU utilisation (the average over each period, in percent of all its vCPUs together, as
 * EC2's `CPUUtilization` is), and the bytes it received and sent (the sum over each period).
 */
export interface UsageSample {
  /** Average CPU utilisation per period, percent of all the instance's vCPUs (0 to 100). */
  readonly cpuPercent: readonly Datapoint[];
  /** Bytes received per period. */
  readonly received: readonly Datapoint[];
  /** Bytes sent per period. */
  readonly sent: readonly Datapoint[];
}

/**
 * Reads instances' usage from a cloud's metrics service (EC2: CloudWatch). Such a service may
 * bill every read, so a host has a reader only when its settings ask for one.
 */
export interface UsageReader {
  /** The service, for messages (`CloudWatch`). */
  readonly service: string;
  /** The length of the periods it reads, in seconds: reading more often finds nothing new. */
  readonly periodSeconds: number;
  /**
   * Reads the usage of instances over a time range, with as few requests as the service allows
   * (CloudWatch: one GetMetricData per 166 instances, each followed through its pages).
   * Instances the service has nothing on are left out of the answer.
   *
   * @param ids The instances.
   * @param start Start of the range, epoch ms, on a period boundary.
   * @param end End of the range (excluded), epoch ms, on a period boundary.
   * @returns Each instance's sample, by id.
   */
  read(
    ids: readonly string[],
    start: number,
    end: number,
  ): Promise<ReadonlyMap<string, UsageSample>>;
}

/** A validated launch, ready to run. */
export interface PreparedLaunch {
  /** The size it would launch (EC2's instance type), when the provider knows it before launching. */
  readonly size?: string;
  /**
   * What the account's quota will charge for the instance, when it is not its size and the
   * provider can say before launching (a partner OpenNebula: its template's `CPU` and
   * `MEMORY`, read once for the check and the launch).
   */
  charged?(): Promise<QuotaCharge | undefined>;
  /**
   * Launches the instance, or finds the one an earlier attempt of the same deploy launched,
   * and returns once it runs. All or nothing: an instance that does not come up is removed
   * before the failure is reported.
   */
  run(): Promise<Instance>;
}

/**
 * What the driver knows of a kind of provider before opening one: cheap to load, so that
 * configuration checks and unsupported actions never load a cloud's client.
 */
export interface ProviderKind {
  /** The name the configuration's `provider` setting uses (`ec2`). */
  readonly name: string;
  /** The provider in words, for messages (`the EC2 driver`). */
  readonly label: string;
  /** The `TYPE` of its `PUBLIC_CLOUD` sections (`ec2`); legacy sections map to a type too. */
  readonly sectionType: string;
  /** The connection settings it reads from the configuration, besides the common ones. */
  readonly settingKeys: readonly string[];
  /**
   * Those of its settings that are secrets: a configuration file holding one must be private
   * to its owner, and their values are never printed.
   */
  readonly secretKeys: readonly string[];
  /**
   * The settings a host's OpenNebula template may give, by the attribute OpenNebula's own
   * driver of the kind read (`REGION_NAME`, `EC2_ACCESS`, ...); the configuration file's win.
   */
  readonly templateSettings: readonly TemplateSetting[];
  /**
   * What the environment gives a host where neither the configuration file nor the host's
   * template sets anything (`region from AWS_REGION`), in words, for the preflight; no values.
   *
   * @param settings The host's settings.
   * @param env The environment the provider would read.
   */
  environmentSources(
    settings: HostSettings,
    env: { get(name: string): string | undefined },
  ): readonly string[];
  /**
   * Checks and keeps its connection settings.
   *
   * @param read Reads the host's merged settings, with the configuration's messages.
   * @throws {InvalidInputError} naming the setting.
   */
  parseConnection(read: SettingReader): unknown;
  /**
   * Says what is wrong with a key of its template section or of the configuration's template
   * defaults (`undefined` when it is known).
   */
  templateKeyProblem(key: string, section: string, selectorsAllowed: boolean): string | undefined;
  /** OpenNebula actions it cannot do, each with the reason given to the operator. */
  readonly unsupported: Readonly<Record<string, string>>;
  /** Why a VM cannot move between two of its hosts in different locations. */
  readonly crossLocationMigration: string;
  /**
   * Checks that a deploy id is one of this provider's instance ids, before any request.
   *
   * @throws {InvalidInputError} saying what an id looks like.
   */
  checkDeployId(id: string): void;
  /**
   * What decides which instances `list()` sees for a host (account, region, endpoint, and what
   * the environment adds to them), as a string holding no secret: hosts with equal scopes see
   * the same instances, so their polls may share one listing. Cheap: loads no cloud client.
   *
   * @param settings The host's settings.
   * @param env The environment the provider would read.
   */
  listingScope(settings: HostSettings, env: { get(name: string): string | undefined }): string;
  /**
   * The reader of a host's VMs' usage (CPU and network, for OpenNebula's monitoring), when the
   * host's settings ask for one; undefined otherwise. Loads no cloud client until it reads.
   * Kinds whose cloud has no metrics service the driver reads leave it out.
   *
   * @param settings The host's settings.
   * @param time The run's signal and deadline, which end every read.
   */
  usageReader?(settings: HostSettings, time: ActionTime): UsageReader | undefined;
  /**
   * Opens a provider for a host. Sends no request.
   *
   * @param settings The host's settings.
   * @param time The action's signal, which aborts every call and wait when it runs out of
   *   time, and its deadline, within which calls keep retrying what may pass.
   */
  open(settings: HostSettings, time: ActionTime): Promise<Provider>;
  /**
   * Checks, for the preflight `doctor`, that a host can work: its endpoint answers, its
   * credentials are accepted and allowed to launch, its defaults exist. Changes nothing.
   * Hosts with the same connection settings share one client.
   *
   * @param settings The host's settings.
   * @param signal Aborts every call when the tool runs out of time.
   * @returns One check each, failures with their fix.
   */
  preflight(settings: HostSettings, signal: AbortSignal): Promise<Check[]>;
}

/** A setting a host's OpenNebula template may give. */
export interface TemplateSetting {
  /** The template attribute (`EC2_SECRET`), as OpenNebula's own driver named it. */
  readonly attribute: string;
  /** The setting it gives (`secretAccessKey`). */
  readonly setting: string;
  /**
   * The settings that, in the configuration file, decide what this one is for (any source of
   * credentials, for a key): with one of them there, the template's attribute is not used.
   */
  readonly decidedBy: readonly string[];
  /** Whether oned may keep it encrypted (its `HOST_ENCRYPTED_ATTR`, 5.4–5.8 always). */
  readonly encrypted?: true;
  /** Whether it is a secret, never printed. */
  readonly secret?: true;
}

/** How a provider kind reads its settings: typed, with messages that name the host and file. */
export interface SettingReader {
  /** A non-empty string setting (trimmed), or undefined when absent. */
  text(key: string): string | undefined;
  /** A true/false setting, or undefined when absent. */
  flag(key: string): boolean | undefined;
  /** The error for a setting: `Setting "<key>" for host <host> in <file> <problem>`. */
  fail(key: string, problem: string): Error;
}
