/**
 * Every kind of provider the driver knows, by the name a host's `provider` setting uses.
 *
 * @module
 */

import { EC2_KIND } from "./ec2/kind.ts";
import { ONE_CLOUD_KIND } from "./one_cloud/kind.ts";
import type { ProviderKind } from "./provider.ts";

/** The provider of a host that names none. */
export const DEFAULT_PROVIDER = "ec2";

/** The kinds of provider, by name. */
export const PROVIDER_KINDS: Readonly<Record<string, ProviderKind>> = {
  [EC2_KIND.name]: EC2_KIND,
  [ONE_CLOUD_KIND.name]: ONE_CLOUD_KIND,
};
