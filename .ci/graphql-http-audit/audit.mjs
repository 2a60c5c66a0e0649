#!/usr/bin/env node
// Runs the graphql-http server audit (GraphQL over HTTP spec conformance)
// against a live GraphQL endpoint and prints a readable report.
//
//   node audit.mjs http://127.0.0.1:8000/graphql
//
// Output: one line per audit (ok / notice / warn / error, with id, name and,
// for failures, the reason plus the offending response; failures listed last),
// then the summary
//
//   graphql-http audit: N ok, N warnings, N errors
//
// Exit codes: 0 = no warnings and no errors (MAY-level "notice"s are reported
// but do not fail), 1 = at least one warning or error, 2 = could not run the
// audit at all (bad usage, server unreachable, request timed out).

import { auditServer } from 'graphql-http';

const USAGE = 'usage: node audit.mjs <GraphQL endpoint URL, e.g. http://127.0.0.1:8000/graphql>';
const REQUEST_TIMEOUT_MS = Number(process.env.GRAPHQL_AUDIT_TIMEOUT_MS || 15000);

function fail(message) {
  console.error(`graphql-http audit: ${message}`);
  process.exit(2);
}

const url = process.argv[2];
if (!url || process.argv.length > 3) fail(USAGE);
try {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
} catch {
  fail(`not an http(s) URL: ${url}\n${USAGE}`);
}

// The hub answers only signed-in callers: GRAPHQL_AUDIT_TOKEN is sent as a bearer token.
const AUTHORIZATION = process.env.GRAPHQL_AUDIT_TOKEN ? `Bearer ${process.env.GRAPHQL_AUDIT_TOKEN}` : null;

// Every audit request gets a timeout so a hung server fails the run instead of
// blocking CI forever. A timeout is fatal to auditServer (exit 2 below).
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (AUTHORIZATION) headers.set('authorization', AUTHORIZATION);
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
};

// Best-effort description of the response that made an audit fail.
async function describeResponse(res) {
  if (!res || typeof res.status !== 'number') return '';
  const contentType = res.headers?.get('content-type') ?? '(none)';
  let body = '';
  try {
    if (!res.bodyUsed) body = await res.text();
  } catch {
    body = '';
  }
  body = body.replace(/\s+/g, ' ').trim();
  if (body.length > 300) body = `${body.slice(0, 300)}…`;
  return `HTTP ${res.status}, content-type: ${contentType}${body ? `, body: ${body}` : ''}`;
}

const LABELS = { ok: 'ok    ', notice: 'notice', warn: 'warn  ', error: 'error ' };

let results;
try {
  results = await auditServer({ url, fetchFn });
} catch (err) {
  const cause = err?.cause ? ` (${err.cause.code || err.cause.message || err.cause})` : '';
  fail(`could not audit ${url}: ${err?.message || err}${cause}`);
}

// ok first, failures last (next to the summary), each group in audit order.
const ORDER = { ok: 0, notice: 1, warn: 2, error: 3 };
const ordered = results
  .map((result, index) => ({ result, index }))
  .sort((a, b) => (ORDER[a.result.status] ?? 4) - (ORDER[b.result.status] ?? 4) || a.index - b.index)
  .map(({ result }) => result);

console.log(`graphql-http audit of ${url}`);
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of ordered) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  console.log(`  ${LABELS[result.status] ?? result.status} [${result.id}] ${result.name}`);
  if (result.status !== 'ok') {
    console.log(`           reason: ${result.reason}`);
    const response = await describeResponse(result.response);
    if (response) console.log(`           response: ${response}`);
  }
}

if (counts.notice > 0) {
  console.log(`(${counts.notice} notice(s): optional MAY audits not met; they do not fail the audit)`);
}
console.log(`graphql-http audit: ${counts.ok} ok, ${counts.warn} warnings, ${counts.error} errors`);
process.exit(counts.warn > 0 || counts.error > 0 ? 1 : 0);
