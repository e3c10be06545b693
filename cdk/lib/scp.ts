import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImmutagConfigError } from './rule-parameters';

/** AWS Organizations' limit on an SCP's content, in characters (counted here as UTF-8 bytes). */
export const SCP_MAX_BYTES = 5120;

/** At most this many SCPs can be attached directly to one root, OU or account (AWS Organizations). */
export const MAX_SCPS_PER_TARGET = 5;

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

/**
 * Refuses more SCPs than one target can hold: every policy of the stack is attached to every
 * target, and Organizations attaches at most 5 directly to a root, OU or account
 * (`FullAWSAccess` usually takes one of them).
 */
export function checkScpCount(documents: ScpDocument[]): void {
  if (documents.length > MAX_SCPS_PER_TARGET) {
    throw new ImmutagConfigError(
      `the SCP stack would attach ${documents.length} SCPs (${documents.map((d) => d.name).join(', ')}) to each target, but AWS Organizations attaches at most ${MAX_SCPS_PER_TARGET} directly to one root, OU or account, and FullAWSAccess usually takes one of them: deploy fewer files (the strict preset holds baseline and protect-tags in one SCP)`,
    );
  }
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/**
 * The tag keys an SCP keeps for its exempt principals: those of a Deny on
 * `ecr:TagResource`, `ecr:UntagResource` and `ecr:CreateRepository` conditioned on
 * `ForAnyValue:StringEquals[IgnoreCase]` `aws:TagKeys` and exempting principals with
 * `ArnNotLike` `aws:PrincipalArn` (what `immutag scp generate --exemption-tag-key` emits).
 * Keys of an IgnoreCase condition are returned lower-cased, with `ignoreCase` set.
 */
export function protectedTagKeys(doc: ScpDocument): { key: string; ignoreCase: boolean }[] {
  const out: { key: string; ignoreCase: boolean }[] = [];
  for (const st of list(doc.document.Statement) as Record<string, unknown>[]) {
    const actions = list(st.Action).map((a) => String(a).toLowerCase());
    const covers = ['ecr:tagresource', 'ecr:untagresource', 'ecr:createrepository'].every((a) => actions.includes(a));
    const condition = (st.Condition ?? {}) as Record<string, Record<string, unknown>>;
    const exempts = list(condition.ArnNotLike?.['aws:PrincipalArn']).length > 0;
    if (st.Effect !== 'Deny' || !covers || !exempts) continue;
    for (const [operator, ignoreCase] of [['ForAnyValue:StringEquals', false], ['ForAnyValue:StringEqualsIgnoreCase', true]] as const) {
      for (const key of list(condition[operator]?.['aws:TagKeys'])) {
        out.push({ key: ignoreCase ? String(key).toLowerCase() : String(key), ignoreCase });
      }
    }
  }
  return out;
}

/**
 * Refuses SCPs that leave the Config rule's exemption tag open: when the rule exempts
 * repositories carrying `exemptionTagKey`, one of the SCPs must deny setting or removing that
 * key to all but the exempt principals, or anyone allowed `ecr:TagResource` exempts their own
 * repository. The same key feeds the rule and this check, so the two cannot drift.
 */
export function checkExemptionTagProtected(documents: ScpDocument[], exemptionTagKey: string | undefined): void {
  if (exemptionTagKey === undefined) return;
  const protectedBy = documents.filter((d) =>
    protectedTagKeys(d).some((p) => p.key === (p.ignoreCase ? exemptionTagKey.toLowerCase() : exemptionTagKey)),
  );
  if (protectedBy.length > 0) return;
  const others = documents.flatMap((d) => protectedTagKeys(d).map((p) => `${p.key} (${d.name})`));
  throw new ImmutagConfigError(
    `the Config rule exempts repositories tagged ${exemptionTagKey} (ExemptionTagKey), but none of the SCPs (${documents.map((d) => d.name).join(', ')}) keeps that tag key for the exempt principals${others.length > 0 ? `; they protect ${others.join(', ')} instead` : ''}: anyone allowed ecr:TagResource could exempt their own repository. Deploy the policy that \`immutag scp generate --preset strict --exemption-tag-key ${exemptionTagKey}\` writes (or --preset protect-exemption-tag with the same flag)`,
  );
}
