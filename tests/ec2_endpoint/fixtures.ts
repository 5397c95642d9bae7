/**
 * The fixture account every region starts with: AMIs, instance types (with Spot prices), key
 * pairs, a default VPC with a subnet in each of two Availability Zones and its security groups,
 * IAM instance profiles, EBS snapshots and allocated Elastic IP addresses. Tests seed other
 * resources through the endpoint's `fixtures` option.
 *
 * @module
 */

/** An AMI. */
export interface ImageFixture {
  /** `ami-` id. */
  readonly imageId: string;
  /** AMI name. */
  readonly name: string;
  /** `x86_64` or `arm64`. */
  readonly architecture: string;
  /** Owning account. */
  readonly ownerId: string;
  /** Root device name (`/dev/xvda`). */
  readonly rootDeviceName: string;
  /** Root volume size in GiB (the size of its root snapshot, `snap-` and the AMI's digits). */
  readonly rootVolumeSizeGiB: number;
  /** Whether instances launched from it require IMDSv2 by default (`ImdsSupport` v2.0). */
  readonly imdsV2?: boolean;
}

/** An instance type. */
export interface InstanceTypeFixture {
  /** Name (`t3.micro`). */
  readonly instanceType: string;
  /** Supported architectures. */
  readonly architectures: readonly string[];
  /** Current Spot price in USD per hour; a `SpotOptions.MaxPrice` below it is too low. */
  readonly spotPrice: number;
  /** Default virtual CPUs (DescribeInstanceTypes' `VCpuInfo.DefaultVCpus`). */
  readonly vcpus: number;
  /** Memory in MiB (`MemoryInfo.SizeInMiB`). */
  readonly memoryMiB: number;
}

/** A subnet of the default VPC; its Availability Zone is the region name plus `zone`. */
export interface SubnetFixture {
  /** `subnet-` id. */
  readonly subnetId: string;
  /** Its VPC. */
  readonly vpcId: string;
  /** Zone letter (`a` makes `us-east-1a` in us-east-1). */
  readonly zone: string;
  /** IPv4 block, a /16 to /28. */
  readonly cidrBlock: string;
  /** Whether running instances get a public IPv4 address. */
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

/** An Elastic IP address allocated to the account (domain `vpc`), not associated. */
export interface AddressFixture {
  /** `eipalloc-` id. */
  readonly allocationId: string;
  /** The public IPv4 address. */
  readonly publicIp: string;
}

/** Everything a region's account starts with. */
export interface Fixtures {
  /** AMIs. */
  readonly images: readonly ImageFixture[];
  /** Instance types offered. */
  readonly instanceTypes: readonly InstanceTypeFixture[];
  /** Key pair names. */
  readonly keyPairs: readonly string[];
  /** Subnets; the first of each zone is the zone's default. */
  readonly subnets: readonly SubnetFixture[];
  /** Security groups. */
  readonly securityGroups: readonly SecurityGroupFixture[];
  /** IAM instance profile names (at path `/`). */
  readonly instanceProfiles: readonly string[];
  /** EBS snapshots besides the AMIs' root snapshots: id and size in GiB. */
  readonly snapshots: readonly { readonly snapshotId: string; readonly sizeGiB: number }[];
  /** Allocated Elastic IP addresses. */
  readonly addresses: readonly AddressFixture[];
}

/** The fixture account's id. */
export const ACCOUNT_ID = "123456789012";

/** Amazon Linux 2023, x86_64, public, owned by Amazon; requires IMDSv2. */
export const AMAZON_LINUX_AMI = "ami-0abcdef1234567890";
/** Ubuntu 24.04, x86_64, public, owned by Canonical. */
export const UBUNTU_AMI = "ami-0123456789abcdef0";
/** Amazon Linux 2023, arm64, public. */
export const ARM64_AMI = "ami-0a1b2c3d4e5f60789";
/** A well-formed AMI id that does not exist (as if deregistered). */
export const DEREGISTERED_AMI = "ami-0deadbeefdeadbeef";

/** The default VPC. */
export const DEFAULT_VPC = "vpc-0a1b2c3d4e5f67890";
/** Default subnet in zone `a`. */
export const SUBNET_A = "subnet-0aaa1111bbbb22223";
/** Default subnet in zone `b`. */
export const SUBNET_B = "subnet-0bbb2222cccc33334";
/** The default VPC's `default` security group. */
export const DEFAULT_SECURITY_GROUP = "sg-0123456789abcdef0";
/** The default VPC's `web` security group. */
export const WEB_SECURITY_GROUP = "sg-0fedcba9876543210";

/** An instance profile at path `/`. */
export const INSTANCE_PROFILE = "one-burst-role";
/** A 20 GiB snapshot (a data disk seed). */
export const DATA_SNAPSHOT = "snap-0da7a5eed00000001";

/** Allocation id of the first fixture Elastic IP. */
export const EIP_ALLOCATION_A = "eipalloc-0e1a571c0000000a1";
/** Address of the first fixture Elastic IP. */
export const EIP_ADDRESS_A = "203.0.113.10";
/** Allocation id of the second fixture Elastic IP. */
export const EIP_ALLOCATION_B = "eipalloc-0e1a571c0000000b2";
/** Address of the second fixture Elastic IP. */
export const EIP_ADDRESS_B = "203.0.113.11";

const AMAZON = "137112412989";

/** The fixtures every endpoint starts with unless its options replace them. */
export const DEFAULT_FIXTURES: Fixtures = {
  images: [
    image(AMAZON_LINUX_AMI, "al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64", "x86_64", AMAZON),
    {
      ...image(UBUNTU_AMI, "ubuntu-noble-24.04-amd64-server-20241004", "x86_64", "099720109477"),
      rootDeviceName: "/dev/sda1",
      imdsV2: false,
    },
    image(ARM64_AMI, "al2023-ami-2023.6.20241010.0-kernel-6.1-arm64", "arm64", AMAZON),
  ],
  instanceTypes: [
    type("t2.micro", ["i386", "x86_64"], 0.0035, 1, 1024),
    type("t3.micro", ["x86_64"], 0.0031, 2, 1024),
    type("t3.small", ["x86_64"], 0.0062, 2, 2048),
    type("t3.medium", ["x86_64"], 0.0125, 2, 4096),
    type("t4g.micro", ["arm64"], 0.0025, 2, 1024),
    type("m5.large", ["x86_64"], 0.035, 2, 8192),
    // RunInstances' documented default type.
    type("m1.small", ["i386", "x86_64"], 0.0075, 1, 1740),
    // A type the driver's table of common types does not know.
    type("i4i.large", ["x86_64"], 0.06, 2, 16384),
  ],
  keyPairs: ["one-key", "ops"],
  subnets: [
    subnet(SUBNET_A, "a", "172.31.0.0/20"),
    subnet(SUBNET_B, "b", "172.31.16.0/20"),
  ],
  securityGroups: [
    { groupId: DEFAULT_SECURITY_GROUP, groupName: "default", vpcId: DEFAULT_VPC },
    { groupId: WEB_SECURITY_GROUP, groupName: "web", vpcId: DEFAULT_VPC },
  ],
  instanceProfiles: [INSTANCE_PROFILE],
  snapshots: [{ snapshotId: DATA_SNAPSHOT, sizeGiB: 20 }],
  addresses: [
    { allocationId: EIP_ALLOCATION_A, publicIp: EIP_ADDRESS_A },
    { allocationId: EIP_ALLOCATION_B, publicIp: EIP_ADDRESS_B },
  ],
};

function image(imageId: string, name: string, architecture: string, ownerId: string) {
  return {
    imageId,
    name,
    architecture,
    ownerId,
    rootDeviceName: "/dev/xvda",
    rootVolumeSizeGiB: 8,
    imdsV2: true,
  };
}

function type(
  instanceType: string,
  architectures: string[],
  spotPrice: number,
  vcpus: number,
  memoryMiB: number,
): InstanceTypeFixture {
  return { instanceType, architectures, spotPrice, vcpus, memoryMiB };
}

function subnet(subnetId: string, zone: string, cidrBlock: string): SubnetFixture {
  return { subnetId, vpcId: DEFAULT_VPC, zone, cidrBlock, mapPublicIpOnLaunch: true };
}
