/**
 * RunInstances' instance options, each checked as the API reference describes it:
 *
 * - `IamInstanceProfile.Name` / `.Arn` must name an instance profile of the account
 *   (`InvalidParameterValue`, "Invalid IAM Instance Profile name" / "ARN");
 * - `MetadataOptions` (IMDS), with the AMI's `imdsSupport` deciding the defaults;
 * - `InstanceMarketOptions` for Spot: `SpotInstanceType` one-time | persistent,
 *   `InstanceInterruptionBehavior` terminate | stop | hibernate (persistent requests only with
 *   stop or hibernate; stop and hibernate only with persistent requests), `MaxPrice` of at
 *   least USD 0.001 and not below the type's Spot price (`SpotMaxPriceTooLow`), `ValidUntil`
 *   only for persistent requests;
 * - `HibernationOptions.Configured`, which needs an encrypted root volume and makes the Spot
 *   interruption behavior `hibernate`.
 *
 * @module
 */

import type { VolumeSpec } from "../ebs.ts";
import { Ec2Error, errors } from "../errors.ts";
import type { InstanceTypeFixture } from "../fixtures.ts";
import { instanceProfileId } from "../ids.ts";
import type { ImageRecord } from "../images.ts";
import type { MetadataOptions } from "../instance.ts";
import { boolParam, intParam, type Params, sub } from "../query.ts";
import type { RegionState } from "../region_state.ts";

/** The lowest `MaxPrice` EC2 accepts, in USD. */
const MIN_SPOT_PRICE = 0.001;
const ARN =
  /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):instance-profile(\/(?:[\x21-\x7E]+\/)?)([\w+=,.@-]{1,128})$/;

/** A validated Spot request. */
export interface SpotSpec {
  /** `one-time` or `persistent`. */
  readonly type: string;
  /** `terminate`, `stop` or `hibernate`. */
  readonly interruptionBehavior: string;
  /** `MaxPrice` as given. */
  readonly maxPrice: string | undefined;
}

/**
 * `IamInstanceProfile.*`.
 *
 * @param region The region (its account and instance profiles).
 * @param profile The `IamInstanceProfile.*` parameters.
 * @returns The profile's ARN and id, or undefined when none is named.
 * @throws {Ec2Error} `InvalidParameterValue` for a name or ARN of no instance profile,
 *   `InvalidParameterCombination` when name and ARN name different ones.
 */
export function validateInstanceProfile(
  region: RegionState,
  profile: Params,
): { arn: string; id: string } | undefined {
  const arn = profile["Arn"];
  const name = profile["Name"];
  let byArn;
  if (arn !== undefined) {
    const m = ARN.exec(arn);
    byArn = m && m[1] === region.accountId
      ? region.fixtures.instanceProfiles.find((p) => p.path === m[2] && p.name === m[3])
      : undefined;
    if (!byArn) {
      throw errors.invalidValue("iamInstanceProfile.arn", arn, "Invalid IAM Instance Profile ARN");
    }
  }
  let byName;
  if (name !== undefined) {
    byName = region.instanceProfile(name);
    if (!byName) {
      throw errors.invalidValue(
        "iamInstanceProfile.name",
        name,
        "Invalid IAM Instance Profile name",
      );
    }
  }
  if (byArn && byName && byArn !== byName) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "The parameters iamInstanceProfile.name and iamInstanceProfile.arn name different instance profiles.",
    );
  }
  const found = byArn ?? byName;
  return found && { arn: region.instanceProfileArn(found), id: instanceProfileId(found.name) };
}

/**
 * `MetadataOptions.*`.
 *
 * @param options The `MetadataOptions.*` parameters.
 * @param image The AMI (IMDSv2 by default when its `imdsSupport` is `v2.0`).
 * @returns The IMDS settings.
 * @throws {Ec2Error} `InvalidParameterValue` for a value out of its set or range.
 */
export function validateMetadataOptions(options: Params, image: ImageRecord): MetadataOptions {
  const v2 = image.imdsSupport === "v2.0";
  const pick = (name: string, allowed: readonly string[], fallback: string) => {
    const value = options[name] ?? fallback;
    if (!allowed.includes(value)) throw errors.invalidValue(`MetadataOptions.${name}`, value);
    return value;
  };
  const hops = intParam(options, "HttpPutResponseHopLimit") ?? (v2 ? 2 : 1);
  if (hops < 1 || hops > 64) {
    throw errors.invalidValue("MetadataOptions.HttpPutResponseHopLimit", String(hops));
  }
  return {
    httpTokens: pick("HttpTokens", ["optional", "required"], v2 ? "required" : "optional"),
    httpPutResponseHopLimit: hops,
    httpEndpoint: pick("HttpEndpoint", ["enabled", "disabled"], "enabled"),
    httpProtocolIpv6: pick("HttpProtocolIpv6", ["enabled", "disabled"], "disabled"),
    instanceMetadataTags: pick("InstanceMetadataTags", ["enabled", "disabled"], "disabled"),
  };
}

/**
 * `HibernationOptions.Configured`.
 *
 * @param p The request's parameters.
 * @param root The root volume.
 * @returns Whether the instance is enabled for hibernation.
 * @throws {Ec2Error} `UnsupportedHibernationConfiguration` when the root volume is not
 *   encrypted.
 */
export function validateHibernation(p: Params, root: VolumeSpec): boolean {
  const configured = boolParam(p, "HibernationOptions.Configured") ?? false;
  if (configured && !root.encrypted) {
    throw new Ec2Error(
      "UnsupportedHibernationConfiguration",
      "The instance could not be launched enabled for hibernation: its root volume must be encrypted.",
    );
  }
  return configured;
}

/**
 * `InstanceMarketOptions.*`.
 *
 * @param market The `InstanceMarketOptions.*` parameters.
 * @param type The instance type (its Spot price).
 * @param hibernation Whether the instance is enabled for hibernation.
 * @param now The current time (ms), for `ValidUntil`.
 * @returns The Spot request, or undefined for On-Demand.
 * @throws {Ec2Error} `InvalidParameterValue`, `InvalidParameterCombination` or
 *   `SpotMaxPriceTooLow`.
 */
export function validateMarket(
  market: Params,
  type: InstanceTypeFixture,
  hibernation: boolean,
  now: number,
): SpotSpec | undefined {
  const marketType = market["MarketType"];
  const spot = sub(market, "SpotOptions");
  if (marketType === undefined) {
    if (Object.keys(spot).length > 0) {
      throw new Ec2Error(
        "InvalidParameterCombination",
        "SpotOptions can only be used with MarketType spot.",
      );
    }
    return undefined;
  }
  if (marketType !== "spot") {
    throw errors.invalidValue(
      "InstanceMarketOptions.MarketType",
      marketType,
      "Only 'spot' is supported by this endpoint.",
    );
  }
  const spotType = spot["SpotInstanceType"] ?? "one-time";
  if (spotType !== "one-time" && spotType !== "persistent") {
    throw errors.invalidValue("SpotOptions.SpotInstanceType", spotType);
  }
  const behavior = interruptionBehavior(spot["InstanceInterruptionBehavior"], hibernation);
  if (spotType === "persistent" && behavior === "terminate") {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "Persistent Spot Instance requests are only supported when the instance interruption behavior is either hibernate or stop.",
    );
  }
  if (spotType === "one-time" && behavior !== "terminate") {
    throw new Ec2Error(
      "InvalidParameterCombination",
      `The instance interruption behavior '${behavior}' requires a persistent Spot Instance request.`,
    );
  }
  validateValidUntil(spot["ValidUntil"], spotType, now);
  const maxPrice = spot["MaxPrice"];
  if (maxPrice !== undefined) validateMaxPrice(maxPrice, type);
  return { type: spotType, interruptionBehavior: behavior, maxPrice };
}

function interruptionBehavior(requested: string | undefined, hibernation: boolean): string {
  if (requested !== undefined && !["hibernate", "stop", "terminate"].includes(requested)) {
    throw errors.invalidValue("SpotOptions.InstanceInterruptionBehavior", requested);
  }
  if (hibernation && requested !== undefined && requested !== "hibernate") {
    throw new Ec2Error(
      "InvalidParameterCombination",
      `An instance enabled for hibernation is hibernated when interrupted; '${requested}' is not possible.`,
    );
  }
  return requested ?? (hibernation ? "hibernate" : "terminate");
}

function validateValidUntil(validUntil: string | undefined, spotType: string, now: number): void {
  if (validUntil === undefined) return;
  if (spotType !== "persistent") {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "ValidUntil is supported only for persistent Spot Instance requests.",
    );
  }
  const at = Date.parse(validUntil);
  if (Number.isNaN(at) || at <= now) {
    throw errors.invalidValue("SpotOptions.ValidUntil", validUntil, "Expecting a future date.");
  }
}

function validateMaxPrice(maxPrice: string, type: InstanceTypeFixture): void {
  if (!/^\d+(\.\d+)?$/.test(maxPrice)) throw errors.invalidValue("SpotOptions.MaxPrice", maxPrice);
  const price = Number(maxPrice);
  if (price < MIN_SPOT_PRICE) {
    throw errors.invalidValue(
      "SpotOptions.MaxPrice",
      maxPrice,
      `The maximum price must be at least USD ${MIN_SPOT_PRICE}.`,
    );
  }
  if (type.spotPrice !== undefined && price < type.spotPrice) {
    throw new Ec2Error(
      "SpotMaxPriceTooLow",
      `Your Spot request price of ${maxPrice} is lower than the minimum required Spot request fulfillment price of ${type.spotPrice}.`,
    );
  }
}
