/**
 * The fixture "account" every region starts with: public and private AMIs, instance types,
 * key pairs, a default VPC with a subnet in each of two Availability Zones, a second
 * (non-default) VPC with a private subnet, and security groups.
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
  /** Root volume size in GiB. */
  readonly rootVolumeSizeGiB: number;
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
    type("t2.micro", 1, 1024, ["i386", "x86_64"], { free: true, burst: true, xen: true }),
    type("t3.micro", 2, 1024, ["x86_64"], { free: true, burst: true }),
    type("t3.small", 2, 2048, ["x86_64"], { burst: true }),
    type("t3.medium", 2, 4096, ["x86_64"], { burst: true }),
    type("t4g.micro", 2, 1024, ["arm64"], { free: true, burst: true }),
    type("m5.large", 2, 8192, ["x86_64"], {}),
    type("c5.xlarge", 4, 8192, ["x86_64"], {}),
    type("r5.large", 2, 16384, ["x86_64"], {}),
    type("m1.small", 1, 1740, ["i386", "x86_64"], { old: true, xen: true }),
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
};

function type(
  instanceType: string,
  vCpus: number,
  memoryMiB: number,
  architectures: readonly string[],
  flags: { free?: boolean; burst?: boolean; xen?: boolean; old?: boolean },
): InstanceTypeFixture {
  return {
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
