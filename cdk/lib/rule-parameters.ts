/**
 * The Config rule's parameters, typed, validated the way `immutag-core` (params.rs) validates
 * them, and rendered to the wire form AWS Config passes to the Lambda: a JSON object of strings
 * with comma-separated lists. Validating at synth time means a bad value fails `cdk synth`
 * with a message that names the key, instead of every evaluation failing after deployment.
 */

/** Parameter key: exclusion filters a repository may use and still be COMPLIANT. */
export const ALLOWED_EXCLUSION_FILTERS = 'AllowedExclusionFilters';
/** Parameter key: repository name patterns that are exempt (NOT_APPLICABLE). */
export const EXEMPT_REPOSITORY_PATTERNS = 'ExemptRepositoryPatterns';
/** Parameter key: a resource tag key whose presence exempts a repository. */
export const EXEMPTION_TAG_KEY = 'ExemptionTagKey';
/** Parameter key: the role the Lambda assumes in the event's account. */
export const EXECUTION_ROLE_NAME = 'ExecutionRoleName';
/** Parameter key: auto-remediation mode (`IMMUTABLE` or `NONE`). */
export const REMEDIATION = 'Remediation';

/** What the rule checks and who is exempt. Every field is optional. */
export interface ImmutagRuleParameters {
  /**
   * Exclusion filters (exact filter text, e.g. `latest`, `dev-*`) that an
   * IMMUTABLE_WITH_EXCLUSION repository may use and still be COMPLIANT. A catch-all (`*`)
   * is refused.
   * @default - none: only IMMUTABLE passes (Security Hub ECR.2)
   */
  readonly allowedExclusionFilters?: string[];
  /**
   * Repository name patterns (`*` matches any run of characters, whole name) whose
   * repositories are NOT_APPLICABLE.
   * @default - none
   */
  readonly exemptRepositoryPatterns?: string[];
  /**
   * A resource tag key; a repository carrying it (any value) is NOT_APPLICABLE.
   * @default - none
   */
  readonly exemptionTagKey?: string;
  /**
   * The IAM role name (not ARN) that the Lambda assumes in the account of each event before
   * reading and reporting: set it when one Lambda serves several accounts (organization rule).
   * The Lambda's role then gets `sts:AssumeRole` on `arn:PARTITION:iam::*:role/NAME`.
   * @default - none: the Lambda works in its own account with its own role
   */
  readonly executionRoleName?: string;
}

/** Thrown when a rule parameter or deployment option is invalid; the message names it. */
export class ImmutagConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImmutagConfigError';
  }
}

const FILTER_RE = /^[0-9a-zA-Z._*-]{1,128}$/;
const NAME_PATTERN_RE = /^[a-z0-9._\-/*]{1,256}$/;
const ROLE_NAME_RE = /^[A-Za-z0-9+=,.@_-]{1,64}$/;

function invalid(key: string, problem: string): ImmutagConfigError {
  return new ImmutagConfigError(`rule parameter ${key}: ${problem}`);
}

function cleanList(key: string, items: string[] | undefined): string[] {
  if (items === undefined) return [];
  if (!Array.isArray(items)) throw invalid(key, 'expected a list of strings');
  const out: string[] = [];
  for (const raw of items) {
    if (typeof raw !== 'string') throw invalid(key, `expected strings, found ${typeof raw}`);
    const item = raw.trim();
    if (item === '') continue;
    if (item.includes(',')) {
      throw invalid(key, `\`${item}\` contains a comma, which separates items on the wire; give each item separately`);
    }
    out.push(item);
  }
  return out;
}

/**
 * Validates the parameters and renders them in Config's wire form (every value a string).
 * Keys that are not set are left out; `Remediation` is always present (`IMMUTABLE` or `NONE`)
 * so that the deployed rule says what it does.
 */
export function renderRuleParameters(
  params: ImmutagRuleParameters,
  remediation: boolean,
): Record<string, string> {
  const wire: Record<string, string> = {};

  const filters = cleanList(ALLOWED_EXCLUSION_FILTERS, params.allowedExclusionFilters);
  for (const f of filters) {
    if (!FILTER_RE.test(f)) {
      throw invalid(
        ALLOWED_EXCLUSION_FILTERS,
        `\`${f}\` is not a valid exclusion filter (1 to 128 characters of 0-9 a-z A-Z . _ * -)`,
      );
    }
    if (/^\*+$/.test(f)) {
      throw invalid(
        ALLOWED_EXCLUSION_FILTERS,
        `\`${f}\` matches every tag, which would make IMMUTABLE_WITH_EXCLUSION fully mutable; list the specific tags to allow`,
      );
    }
  }
  if (filters.length > 0) wire[ALLOWED_EXCLUSION_FILTERS] = filters.join(',');

  const patterns = cleanList(EXEMPT_REPOSITORY_PATTERNS, params.exemptRepositoryPatterns);
  for (const p of patterns) {
    if (!NAME_PATTERN_RE.test(p)) {
      throw invalid(
        EXEMPT_REPOSITORY_PATTERNS,
        `\`${p}\` is not a repository name pattern (lowercase letters, digits, . _ - / and the wildcard *, up to 256 characters)`,
      );
    }
  }
  if (patterns.length > 0) wire[EXEMPT_REPOSITORY_PATTERNS] = patterns.join(',');

  const tagKey = params.exemptionTagKey?.trim();
  if (tagKey) {
    if ([...tagKey].length > 128) throw invalid(EXEMPTION_TAG_KEY, 'a tag key is at most 128 characters');
    if (tagKey.startsWith('aws:')) {
      throw invalid(
        EXEMPTION_TAG_KEY,
        'tag keys starting with `aws:` are reserved by AWS and cannot be set on a repository',
      );
    }
    wire[EXEMPTION_TAG_KEY] = tagKey;
  }

  const role = params.executionRoleName?.trim();
  if (role) {
    if (!ROLE_NAME_RE.test(role)) {
      throw invalid(
        EXECUTION_ROLE_NAME,
        `\`${role}\` is not an IAM role name (1 to 64 characters of A-Z a-z 0-9 + = , . @ _ -; give the name, not the ARN)`,
      );
    }
    wire[EXECUTION_ROLE_NAME] = role;
  }

  wire[REMEDIATION] = remediation ? 'IMMUTABLE' : 'NONE';
  return wire;
}
