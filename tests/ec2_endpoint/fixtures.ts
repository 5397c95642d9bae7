/**
 * The fixture "account" every region starts with: public and private AMIs, instance types
 * (with Spot prices), key pairs, a default VPC with a subnet in each of two Availability
 * Zones, a second (non-default) VPC with a private subnet, security groups, IAM instance
 * profiles, EBS snapshots and allocated Elastic IP addresses.
 *
 * @module
 */

/** An AMI. */
export interface ImageFixture {
  /** `ami-` id. */
  readonly imageId: string;
  /** AMI name. */
  readonly name: string;
  /** Description. */
  readonly description: string;
  /** `x86_64` or `arm64`. */
  readonly architecture: string;
  /** Owning account. */
  readonly ownerId: string;
  /** Owner alias (`amazon`, `aws-marketplace`), for public images of AWS. */
  readonly ownerAlias?: string;
  /** Whether anyone may launch it. */
  readonly public: boolean;
  /** Platform details (`Linux/UNIX`). */
  readonly platformDetails: string;
  /** Root device name (`/dev/xvda`). */
  readonly rootDeviceName: string;
  /** Root volume size in GiB (the size of its root snapshot). */
  readonly rootVolumeSizeGiB: number;
  /** Root snapshot id; `snap-` and the AMI id's digits when absent. */
  readonly rootSnapshotId?: string;
  /** ISO-8601 creation time. */
  readonly creationDate: string;
  /** `v2.0` when instances launched from it require IMDSv2 by default. */
  readonly imdsSupport?: string;
}

/** An instance type. */
export interface InstanceTypeFixture {
  /** Name (`t3.micro`). */
  readonly instanceType: string;
  /** Default vCPUs. */
  readonly vCpus: number;
  /** Memory in MiB. */
  readonly memoryMiB: number;
  /** Supported architectures. */
  readonly architectures: readonly string[];
  /** Current generation. */
  readonly currentGeneration: boolean;
  /** Free-tier eligible. */
  readonly freeTierEligible: boolean;
  /** Burstable performance (T family). */
  readonly burstable: boolean;
  /** `nitro` or `xen`. */
  readonly hypervisor: string;
  /**
   * Current Spot price in USD per hour; a `SpotOptions.MaxPrice` below it answers
   * `SpotMaxPriceTooLow`. Any price is enough when absent.
   */
  readonly spotPrice?: number;
}

/** A VPC. */
export interface VpcFixture {
  /** `vpc-` id. */
  readonly vpcId: string;
  /** IPv4 block. */
  readonly cidrBlock: string;
  /** Whether it is the region's default VPC. */
  readonly isDefault: boolean;
}

/** A subnet; its Availability Zone is the region name plus `zone`. */
export interface SubnetFixture {
  /** `subnet-` id. */
  readonly subnetId: string;
  /** Its VPC. */
  readonly vpcId: string;
  /** Zone letter (`a` makes `us-east-1a` in us-east-1). */
  readonly zone: string;
  /** IPv4 block (inside the VPC's). */
  readonly cidrBlock: string;
  /** Default subnet of its zone (used when RunInstances names no subnet). */
  readonly defaultForAz: boolean;
  /** Whether instances get a public IPv4 address. */
  readonly mapPublicIpOnLaunch: boolean;
}

/** A security group. */
export interface SecurityGroupFixture {
  /** `sg-` id. */
  readonly groupId: string;
  /** Name (unique within its VPC). */
  readonly groupName: string;
  /** Its VPC. */
  readonly vpcId: string;
}

/** An IAM instance profile RunInstances may name. */
export interface InstanceProfileFixture {
  /** Name (`one-burst-role`). */
  readonly name: string;
  /** IAM path, `/` or `/a/b/`. */
  readonly path: string;
}

/** An EBS snapshot volumes may be created from. */
export interface SnapshotFixture {
  /** `snap-` id. */
  readonly snapshotId: string;
  /** Size in GiB (the smallest volume made from it). */
  readonly volumeSizeGiB: number;
  /** Description. */
  readonly description: string;
}

/** An Elastic IP address allocated to the account (domain `vpc`), not associated. */
export interface AddressFixture {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The public IPv4 address. */
  readonly publicIp: string;
  /** Tags. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Everything a region's account starts with. */
export interface Fixtures {
  /** AMIs. */
  readonly images: readonly ImageFixture[];
  /** Instance types offered. */
  readonly instanceTypes: readonly InstanceTypeFixture[];
  /** Key pair names. */
  readonly keyPairs: readonly string[];
  /** VPCs. */
  readonly vpcs: readonly VpcFixture[];
  /** Subnets. */
  readonly subnets: readonly SubnetFixture[];
  /** Security groups. */
  readonly securityGroups: readonly SecurityGroupFixture[];
  /** IAM instance profiles. */
  readonly instanceProfiles: readonly InstanceProfileFixture[];
  /** EBS snapshots besides the AMIs' root snapshots. */
  readonly snapshots: readonly SnapshotFixture[];
  /** Allocated Elastic IP addresses. */
  readonly addresses: readonly AddressFixture[];
}

/** The fixture account's id. */
export const ACCOUNT_ID = "123456789012";

/** Amazon Linux 2023, x86_64, public, owned by Amazon. */
export const AMAZON_LINUX_AMI = "ami-0abcdef1234567890";
/** Ubuntu 24.04, x86_64, public, owned by Canonical. */
export const UBUNTU_AMI = "ami-0123456789abcdef0";
/** Amazon Linux 2023, arm64, public. */
export const ARM64_AMI = "ami-0a1b2c3d4e5f60789";
/** A private AMI owned by the fixture account (`Owner=self`). */
export const PRIVATE_AMI = "ami-0ab1ce5e1f0000001";
/** A well-formed AMI id that does not exist (as if deregistered). */
export const DEREGISTERED_AMI = "ami-0deadbeefdeadbeef";

/** The default VPC. */
export const DEFAULT_VPC = "vpc-0a1b2c3d4e5f67890";
/** Default subnet in zone `a`. */
export const SUBNET_A = "subnet-0aaa1111bbbb22223";
/** Default subnet in zone `b`. */
export const SUBNET_B = "subnet-0bbb2222cccc33334";
/** A second, non-default VPC. */
export const PRIVATE_VPC = "vpc-0f0e0d0c0b0a09080";
/** A subnet of the second VPC without public addresses. */
export const PRIVATE_SUBNET = "subnet-0ccc3333dddd44445";
/** The default VPC's `default` security group. */
export const DEFAULT_SECURITY_GROUP = "sg-0123456789abcdef0";
/** The default VPC's `web` security group. */
export const WEB_SECURITY_GROUP = "sg-0fedcba9876543210";
/** The second VPC's `default` security group. */
export const PRIVATE_SECURITY_GROUP = "sg-0a0a0a0a0a0a0a0a0";

/** An instance profile at path `/`. */
export const INSTANCE_PROFILE = "one-burst-role";
/** An instance profile at path `/ops/`. */
export const OPS_INSTANCE_PROFILE = "ops-readonly";

/** A 20 GiB snapshot (a data disk seed). */
export const DATA_SNAPSHOT = "snap-0da7a5eed00000001";
/** A 100 GiB snapshot. */
export const BACKUP_SNAPSHOT = "snap-0bac0b0000000002f";
/** A well-formed snapshot id that does not exist. */
export const MISSING_SNAPSHOT = "snap-0deadbeefdeadbee0";

/** Allocation id of the first fixture Elastic IP. */
export const EIP_ALLOCATION_A = "eipalloc-0e1a571c0000000a1";
/** Address of the first fixture Elastic IP. */
export const EIP_ADDRESS_A = "203.0.113.10";
/** Allocation id of the second fixture Elastic IP. */
export const EIP_ALLOCATION_B = "eipalloc-0e1a571c0000000b2";
/** Address of the second fixture Elastic IP. */
export const EIP_ADDRESS_B = "203.0.113.11";
/** Allocation id of the third fixture Elastic IP (tagged `Name=one-burst-spare`). */
export const EIP_ALLOCATION_C = "eipalloc-0e1a571c0000000c3";
/** Address of the third fixture Elastic IP. */
export const EIP_ADDRESS_C = "203.0.113.12";

const AMAZON_OWNER = "137112412989";

/** The fixtures every endpoint starts with unless its options replace them. */
export const DEFAULT_FIXTURES: Fixtures = {
  images: [
    {
      imageId: AMAZON_LINUX_AMI,
      name: "al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64",
      description: "Amazon Linux 2023 AMI 2023.6.20241010.0 x86_64 HVM kernel-6.1",
      architecture: "x86_64",
      ownerId: AMAZON_OWNER,
      ownerAlias: "amazon",
      public: true,
      platformDetails: "Linux/UNIX",
      rootDeviceName: "/dev/xvda",
      rootVolumeSizeGiB: 8,
      creationDate: "2024-10-10T21:15:00.000Z",
      imdsSupport: "v2.0",
    },
    {
      imageId: UBUNTU_AMI,
      name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241004",
      description: "Canonical, Ubuntu, 24.04, amd64 noble image",
      architecture: "x86_64",
      ownerId: "099720109477",
      public: true,
      platformDetails: "Linux/UNIX",
      rootDeviceName: "/dev/sda1",
      rootVolumeSizeGiB: 8,
      creationDate: "2024-10-04T08:30:00.000Z",
    },
    {
      imageId: ARM64_AMI,
      name: "al2023-ami-2023.6.20241010.0-kernel-6.1-arm64",
      description: "Amazon Linux 2023 AMI 2023.6.20241010.0 arm64 HVM kernel-6.1",
      architecture: "arm64",
      ownerId: AMAZON_OWNER,
      ownerAlias: "amazon",
      public: true,
      platformDetails: "Linux/UNIX",
      rootDeviceName: "/dev/xvda",
      rootVolumeSizeGiB: 8,
      creationDate: "2024-10-10T21:20:00.000Z",
      imdsSupport: "v2.0",
    },
    {
      imageId: PRIVATE_AMI,
      name: "one-hybrid-base-2024-10",
      description: "OpenNebula burst base image",
      architecture: "x86_64",
      ownerId: ACCOUNT_ID,
      public: false,
      platformDetails: "Linux/UNIX",
      rootDeviceName: "/dev/xvda",
      rootVolumeSizeGiB: 16,
      creationDate: "2024-10-20T10:00:00.000Z",
    },
  ],
  instanceTypes: [
    type("t2.micro", 1, 1024, ["i386", "x86_64"], 0.0035, { free: true, burst: true, xen: true }),
    type("t3.micro", 2, 1024, ["x86_64"], 0.0031, { free: true, burst: true }),
    type("t3.small", 2, 2048, ["x86_64"], 0.0062, { burst: true }),
    type("t3.medium", 2, 4096, ["x86_64"], 0.0125, { burst: true }),
    type("t4g.micro", 2, 1024, ["arm64"], 0.0025, { free: true, burst: true }),
    type("m5.large", 2, 8192, ["x86_64"], 0.035, {}),
    type("c5.xlarge", 4, 8192, ["x86_64"], 0.068, {}),
    type("r5.large", 2, 16384, ["x86_64"], 0.043, {}),
    type("m1.small", 1, 1740, ["i386", "x86_64"], 0.0075, { old: true, xen: true }),
  ],
  keyPairs: ["one-key", "ops"],
  vpcs: [
    { vpcId: DEFAULT_VPC, cidrBlock: "172.31.0.0/16", isDefault: true },
    { vpcId: PRIVATE_VPC, cidrBlock: "10.0.0.0/16", isDefault: false },
  ],
  subnets: [
    {
      subnetId: SUBNET_A,
      vpcId: DEFAULT_VPC,
      zone: "a",
      cidrBlock: "172.31.0.0/20",
      defaultForAz: true,
      mapPublicIpOnLaunch: true,
    },
    {
      subnetId: SUBNET_B,
      vpcId: DEFAULT_VPC,
      zone: "b",
      cidrBlock: "172.31.16.0/20",
      defaultForAz: true,
      mapPublicIpOnLaunch: true,
    },
    {
      subnetId: PRIVATE_SUBNET,
      vpcId: PRIVATE_VPC,
      zone: "a",
      cidrBlock: "10.0.1.0/24",
      defaultForAz: false,
      mapPublicIpOnLaunch: false,
    },
  ],
  securityGroups: [
    { groupId: DEFAULT_SECURITY_GROUP, groupName: "default", vpcId: DEFAULT_VPC },
    { groupId: WEB_SECURITY_GROUP, groupName: "web", vpcId: DEFAULT_VPC },
    { groupId: PRIVATE_SECURITY_GROUP, groupName: "default", vpcId: PRIVATE_VPC },
  ],
  instanceProfiles: [
    { name: INSTANCE_PROFILE, path: "/" },
    { name: OPS_INSTANCE_PROFILE, path: "/ops/" },
  ],
  snapshots: [
    { snapshotId: DATA_SNAPSHOT, volumeSizeGiB: 20, description: "one-hybrid datastore seed" },
    { snapshotId: BACKUP_SNAPSHOT, volumeSizeGiB: 100, description: "nightly backup" },
  ],
  addresses: [
    { allocationId: EIP_ALLOCATION_A, publicIp: EIP_ADDRESS_A },
    { allocationId: EIP_ALLOCATION_B, publicIp: EIP_ADDRESS_B },
    {
      allocationId: EIP_ALLOCATION_C,
      publicIp: EIP_ADDRESS_C,
      tags: { Name: "one-burst-spare" },
    },
  ],
};

function type(
  instanceType: string,
  vCpus: number,
  memoryMiB: number,
  architectures: readonly string[],
  spotPrice: number,
  flags: { free?: boolean; burst?: boolean; xen?: boolean; old?: boolean },
): InstanceTypeFixture {
  return {
    spotPrice,
    instanceType,
    vCpus,
    memoryMiB,
    architectures,
    currentGeneration: !flags.old,
    freeTierEligible: flags.free ?? false,
    burstable: flags.burst ?? false,
    hypervisor: flags.xen ? "xen" : "nitro",
  };
}
