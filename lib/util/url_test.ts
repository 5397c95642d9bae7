import assert from "node:assert/strict";
import { endpointProblem } from "./url.ts";

const WORDS = { expected: "must be a URL", credentials: "must hold no password" };

Deno.test("endpointProblem() accepts http and https URLs with a host, a port and a path", () => {
  for (
    const url of ["http://127.0.0.1:2633/RPC2", "https://cloud.example.org", "HTTPS://X.ORG/a"]
  ) {
    assert.equal(endpointProblem(url, WORDS), undefined, url);
  }
});

Deno.test("endpointProblem() gives the provider's words, and tells length and blanks apart only when detailed", () => {
  const cases: [string, string, string][] = [
    ["cloud.example.org", "must be a URL", "must be a URL"],
    ["ftp://cloud.example.org", "must be a URL", "must be a URL"],
    ["https://", "must be a URL", "must be a URL"],
    ["https://a .org", "must be a URL", "must be a URL, without blanks"],
    ["https://a.org/\u0000", "must be a URL", "must be a URL, without blanks"],
    [
      `https://a.org/${"x".repeat(2048)}`,
      "must be a URL",
      "must be a URL, at most 2048 characters",
    ],
    ["https://a.org/?q=1", "must be a URL, without a query or fragment", ""],
    ["https://a.org/#f", "must be a URL, without a query or fragment", ""],
    ["https://user@a.org", "must hold no password", ""],
    ["https://user:s3cret@a.org", "must hold no password", ""],
  ];
  for (const [url, plain, detailed] of cases) {
    assert.equal(endpointProblem(url, WORDS), plain, url);
    assert.equal(endpointProblem(url, { ...WORDS, detailed: true }), detailed || plain, url);
  }
});

Deno.test("endpointProblem() never quotes the URL it refuses", () => {
  const url = "https://admin:Hunter2-s3cret@a.org/?token=Hunter2-s3cret";
  assert.ok(!endpointProblem(url, WORDS)?.includes("Hunter2"));
});
