/**
 * Checks a request's SigV4 `Authorization` header with the AWS SDK's own signer: the request
 * is signed again, with the endpoint's secret, over the headers the client signed, and the two
 * signatures must match. Anything else (no or an unreadable header, another access key, another
 * secret, a changed body) answers `AuthFailure`, as EC2 does.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { Ec2Error } from "./errors.ts";
import { TEST_CREDENTIALS } from "./options.ts";

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** SHA-256 (HMAC-SHA-256 with a secret) in the shape the signer expects. */
export class Sha256 {
  readonly #hash;
  /** @param secret The HMAC key; a plain hash without one. */
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  /** Adds data. */
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  /** The digest of the data so far. */
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** Who signed a request, and for which region. */
export interface Signer {
  /** Access key id. */
  readonly accessKeyId: string;
  /** Region of the credential scope. */
  readonly region: string;
}

/**
 * Verifies a request signed for EC2 by {@link TEST_CREDENTIALS}.
 *
 * @param request Method, URL, headers and body as received.
 * @returns The signer.
 * @throws {Ec2Error} `AuthFailure` unless the signature is the one the secret makes.
 */
export async function verifySignature(
  request: { method: string; url: URL; headers: Headers; body: Uint8Array },
): Promise<Signer> {
  const match = AUTHORIZATION.exec(request.headers.get("authorization") ?? "");
  const signingDate = new Date(
    (request.headers.get("x-amz-date") ?? "").replace(
      /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
      "$1-$2-$3T$4:$5:$6Z",
    ),
  );
  if (!match || isNaN(signingDate.getTime()) || match[4] !== "ec2") {
    throw new Ec2Error("AuthFailure");
  }
  const [, accessKeyId, , region, , signedHeaders, signature] = match as unknown as string[];
  if (accessKeyId !== TEST_CREDENTIALS.accessKeyId) throw new Ec2Error("AuthFailure");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(";")) headers[name] = request.headers.get(name) ?? "";
  const sessionToken = request.headers.get("x-amz-security-token") ?? undefined;
  const signer = new SignatureV4({
    credentials: { ...TEST_CREDENTIALS, ...(sessionToken ? { sessionToken } : {}) },
    region: region!,
    service: "ec2",
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: request.method,
    protocol: request.url.protocol,
    hostname: request.url.hostname,
    path: request.url.pathname,
    query: Object.fromEntries(request.url.searchParams),
    headers,
    body: request.body,
  }, { signingDate });
  if (!String(signed.headers["authorization"]).endsWith(`Signature=${signature}`)) {
    throw new Ec2Error("AuthFailure");
  }
  return { accessKeyId: accessKeyId!, region: region! };
}
