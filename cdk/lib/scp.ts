import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImmutagConfigError } from './rule-parameters';

/** AWS Organizations' limit on an SCP's content, in characters (counted here as UTF-8 bytes). */
export const SCP_MAX_BYTES = 5120;

/** A Service Control Policy read from one of immutag's golden files. */
export interface ScpDocument {
  /** Absolute path of the file it came from. */
  readonly file: string;
  /** Policy name: the file name without `.json`, prefixed with `immutag-` unless it already is. */
  readonly name: string;
  /** The parsed policy document. */
  readonly document: Record<string, unknown>;
  /** The minified JSON, as it is uploaded. */
  readonly minified: string;
}

/**
 * Reads and checks an SCP golden file: valid JSON, an object with `Version: 2012-10-17` and a
 * non-empty `Statement`, no `Principal`/`NotPrincipal` (not supported in SCPs), and a minified
 * size within Organizations' 5,120 limit. Errors name the file and the problem.
 */
export function readScp(file: string): ScpDocument {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ImmutagConfigError(
      `SCP file ${abs} cannot be read (${(e as Error).message}); give a golden file from policies/ with context immutag:scpPolicyFile`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ImmutagConfigError(`SCP file ${abs} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ImmutagConfigError(`SCP file ${abs} must hold a JSON object (a policy document)`);
  }
  const policy = doc as Record<string, unknown>;
  if (policy.Version !== '2012-10-17') {
    throw new ImmutagConfigError(`SCP file ${abs}: Version must be "2012-10-17", found ${JSON.stringify(policy.Version)}`);
  }
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  if (policy.Statement === undefined || statements.length === 0) {
    throw new ImmutagConfigError(`SCP file ${abs} has no Statement`);
  }
  for (const st of statements) {
    if (typeof st !== 'object' || st === null) {
      throw new ImmutagConfigError(`SCP file ${abs}: every Statement must be an object`);
    }
    if ('Principal' in st || 'NotPrincipal' in st) {
      throw new ImmutagConfigError(`SCP file ${abs}: SCPs do not support Principal or NotPrincipal`);
    }
  }
  const minified = JSON.stringify(policy);
  const bytes = Buffer.byteLength(minified, 'utf8');
  if (bytes > SCP_MAX_BYTES) {
    throw new ImmutagConfigError(
      `SCP file ${abs} is ${bytes} bytes minified, over the ${SCP_MAX_BYTES} limit of AWS Organizations; split it or shorten the exemption list`,
    );
  }
  const base = path.basename(abs).replace(/\.json$/i, '');
  const name = base.startsWith('immutag-') ? base : `immutag-${base}`;
  if (!/^[\w+=,.@-]{1,128}$/.test(name)) {
    throw new ImmutagConfigError(`SCP file ${abs}: the policy name \`${name}\` derived from the file name is not valid (1 to 128 of A-Z a-z 0-9 _ + = , . @ -)`);
  }
  return { file: abs, name, document: policy, minified };
}

const ACCOUNT_RE = /^\d{12}$/;
const OU_RE = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
const ROOT_RE = /^r-[0-9a-z]{4,32}$/;

/**
 * Checks SCP attachment targets: account ids (12 digits), OU ids (`ou-...`) or the root
 * (`r-...`). Duplicates are refused, as is an empty list.
 */
export function checkScpTargets(targets: string[]): string[] {
  if (targets.length === 0) {
    throw new ImmutagConfigError(
      'the SCP stack needs at least one target: context immutag:scpTargets=ou-xxxx-yyyyyyyy,123456789012 (OU, account or root ids)',
    );
  }
  const seen = new Set<string>();
  for (const t of targets) {
    if (!(ACCOUNT_RE.test(t) || OU_RE.test(t) || ROOT_RE.test(t))) {
      throw new ImmutagConfigError(
        `SCP target \`${t}\` is not an account id (12 digits), an OU id (ou-...) or a root id (r-...)`,
      );
    }
    if (seen.has(t)) throw new ImmutagConfigError(`SCP target \`${t}\` is listed twice`);
    seen.add(t);
  }
  return targets;
}
