/**
 * Every kind of provider the driver knows, by the name a host's `provider` setting uses.
 *
 * @module
 */

import { EC2_KIND } from "./ec2/mod.ts";
import { ONE_CLOUD_KIND } from "./one_cloud/mod.ts";
import type { ProviderKinds } from "../core/provider.ts";

/** The kinds of provider, by name; a host that names none is served by EC2. */
export const PROVIDER_KINDS: ProviderKinds = {
  byName: {
    [EC2_KIND.name]: EC2_KIND,
    [ONE_CLOUD_KIND.name]: ONE_CLOUD_KIND,
  },
  defaultName: EC2_KIND.name,
};
