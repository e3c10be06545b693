import * as path from 'node:path';
import { App, Duration, Validations } from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ImmutagLambdaCode } from './lambda-code';
import { ImmutagConfigError } from './rule-parameters';
import { ImmutagExampleStack, ImmutagExecutionRoleStack, ImmutagRuleStack, ImmutagScpStack } from './stacks';

/** The cdk/ directory: relative paths given in context resolve against it. */
export const CDK_DIR = path.resolve(__dirname, '..');

/** Every context key the app reads (all optional). Any other `immutag:` key is an error. */
export const CONTEXT_KEYS = {
  lambdaAsset: 'immutag:lambdaAsset',
  cargoManifest: 'immutag:cargoManifest',
  architecture: 'immutag:architecture',
  remediation: 'immutag:remediation',
  frequency: 'immutag:frequency',
  allowedExclusionFilters: 'immutag:allowedExclusionFilters',
  exemptRepositoryPatterns: 'immutag:exemptRepositoryPatterns',
  exemptionTagKey: 'immutag:exemptionTagKey',
  executionRoleName: 'immutag:executionRoleName',
  ruleName: 'immutag:ruleName',
  roleName: 'immutag:roleName',
  logRetentionDays: 'immutag:logRetentionDays',
  timeoutSeconds: 'immutag:timeoutSeconds',
  scpTargets: 'immutag:scpTargets',
  scpPolicyFile: 'immutag:scpPolicyFile',
  organization: 'immutag:organization',
  excludedAccounts: 'immutag:excludedAccounts',
  executionRoleStack: 'immutag:executionRoleStack',
  trustedRoleArn: 'immutag:trustedRoleArn',
  example: 'immutag:example',
  exampleRepositoryName: 'immutag:exampleRepositoryName',
  nag: 'immutag:nag',
} as const;

/** Default golden SCP file, relative to cdk/. */
export const DEFAULT_SCP_FILE = '../policies/baseline.json';
/** Default Cargo manifest of the Lambda, relative to cdk/. */
export const DEFAULT_CARGO_MANIFEST = '../crates/immutag-lambda/Cargo.toml';

const FREQUENCIES: Record<string, config.MaximumExecutionFrequency> = {
  One_Hour: config.MaximumExecutionFrequency.ONE_HOUR,
  Three_Hours: config.MaximumExecutionFrequency.THREE_HOURS,
  Six_Hours: config.MaximumExecutionFrequency.SIX_HOURS,
  Twelve_Hours: config.MaximumExecutionFrequency.TWELVE_HOURS,
  TwentyFour_Hours: config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS,
};

function ctxError(key: string, problem: string): ImmutagConfigError {
  return new ImmutagConfigError(`context ${key}: ${problem}`);
}

function str(app: App, key: string): string | undefined {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'number') return String(v);
  throw ctxError(key, `expected a string, found ${JSON.stringify(v)}`);
}

function list(app: App, key: string): string[] | undefined {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    return v.map((item) => {
      if (typeof item !== 'string') throw ctxError(key, `expected strings, found ${JSON.stringify(item)}`);
      return item.trim();
    }).filter((s) => s !== '');
  }
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  throw ctxError(key, `expected a comma-separated string or a list, found ${JSON.stringify(v)}`);
}

function bool(app: App, key: string, dflt: boolean): boolean {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  throw ctxError(key, `expected true or false, found ${JSON.stringify(v)}`);
}

function positiveInt(app: App, key: string): number | undefined {
  const s = str(app, key);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s) || Number(s) <= 0) throw ctxError(key, `expected a positive whole number, found \`${s}\``);
  return Number(s);
}

function resolvePath(p: string): string {
  return path.resolve(CDK_DIR, p);
}

function remediationFrom(app: App): boolean {
  const key = CONTEXT_KEYS.remediation;
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    switch (v.trim().toUpperCase()) {
      case 'IMMUTABLE':
      case 'TRUE':
        return true;
      case 'NONE':
      case 'FALSE':
        return false;
    }
  }
  throw ctxError(key, `expected IMMUTABLE (remediate) or NONE (report only), found ${JSON.stringify(v)}`);
}

function frequencyFrom(app: App): config.MaximumExecutionFrequency | undefined {
  const key = CONTEXT_KEYS.frequency;
  const s = str(app, key);
  if (s === undefined || s.toLowerCase() === 'none') return undefined;
  const f = FREQUENCIES[s];
  if (f === undefined) {
    throw ctxError(key, `\`${s}\` is not a Config frequency; use one of ${Object.keys(FREQUENCIES).join(', ')} or none`);
  }
  return f;
}

function architectureFrom(app: App): lambda.Architecture {
  const key = CONTEXT_KEYS.architecture;
  const s = str(app, key)?.toLowerCase();
  if (s === undefined || s === 'arm64') return lambda.Architecture.ARM_64;
  if (s === 'x86_64' || s === 'x86-64') return lambda.Architecture.X86_64;
  throw ctxError(key, `\`${s}\` is not a Lambda architecture; use arm64 or x86_64`);
}

function retentionFrom(app: App): logs.RetentionDays | undefined {
  const key = CONTEXT_KEYS.logRetentionDays;
  const days = positiveInt(app, key);
  if (days === undefined) return undefined;
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v !== logs.RetentionDays.INFINITE);
  if (!allowed.includes(days)) {
    throw ctxError(key, `${days} is not a CloudWatch Logs retention; use one of ${allowed.sort((a, b) => a - b).join(', ')}`);
  }
  return days as logs.RetentionDays;
}

/**
 * Builds immutag's stacks into `app` from its context:
 * `ImmutagRule` always; `ImmutagScp` when `immutag:scpTargets` is set; `ImmutagExample`
 * when `immutag:example` is true. cdk-nag's AwsSolutions checks run on every stack unless
 * `immutag:nag` is false.
 */
export function buildApp(app: App): {
  rule: ImmutagRuleStack;
  scp?: ImmutagScpStack;
  example?: ImmutagExampleStack;
  executionRole?: ImmutagExecutionRoleStack;
} {
  const known = new Set<string>(Object.values(CONTEXT_KEYS));
  const ctx = app.node.getAllContext() as Record<string, unknown>;
  for (const key of Object.keys(ctx)) {
    if (key.startsWith('immutag:') && !known.has(key)) {
      throw new ImmutagConfigError(`unknown context key ${key}; known keys: ${[...known].join(', ')}`);
    }
  }

  const asset = str(app, CONTEXT_KEYS.lambdaAsset);
  const code = asset !== undefined
    ? ImmutagLambdaCode.fromAsset(resolvePath(asset))
    : ImmutagLambdaCode.fromCargo({ manifestPath: resolvePath(str(app, CONTEXT_KEYS.cargoManifest) ?? DEFAULT_CARGO_MANIFEST) });
  const timeout = positiveInt(app, CONTEXT_KEYS.timeoutSeconds);
  if (timeout !== undefined && timeout > 900) throw ctxError(CONTEXT_KEYS.timeoutSeconds, 'a Lambda times out after at most 900 seconds');

  const remediation = remediationFrom(app);
  // One key for the rule's ExemptionTagKey and for the SCP stack's check that it is protected.
  const exemptionTagKey = str(app, CONTEXT_KEYS.exemptionTagKey);
  const executionRoleName = str(app, CONTEXT_KEYS.executionRoleName);
  const organization = bool(app, CONTEXT_KEYS.organization, false);
  const excludedAccounts = list(app, CONTEXT_KEYS.excludedAccounts);
  if (excludedAccounts !== undefined && !organization) {
    throw ctxError(CONTEXT_KEYS.excludedAccounts, 'applies to an organization rule only; set immutag:organization=true');
  }
  const rule = new ImmutagRuleStack(app, 'ImmutagRule', {
    description: 'immutag: AWS Config custom rule keeping ECR image tags immutable',
    rule: {
      code,
      architecture: architectureFrom(app),
      remediation,
      organization: organization ? { excludedAccounts } : undefined,
      frequency: frequencyFrom(app),
      ruleName: str(app, CONTEXT_KEYS.ruleName),
      roleName: str(app, CONTEXT_KEYS.roleName),
      logRetention: retentionFrom(app),
      timeout: timeout === undefined ? undefined : Duration.seconds(timeout),
      parameters: {
        allowedExclusionFilters: list(app, CONTEXT_KEYS.allowedExclusionFilters),
        exemptRepositoryPatterns: list(app, CONTEXT_KEYS.exemptRepositoryPatterns),
        exemptionTagKey,
        executionRoleName,
      },
    },
  });

  let scp: ImmutagScpStack | undefined;
  const targets = list(app, CONTEXT_KEYS.scpTargets);
  if (targets !== undefined && targets.length > 0) {
    const files = list(app, CONTEXT_KEYS.scpPolicyFile) ?? [DEFAULT_SCP_FILE];
    scp = new ImmutagScpStack(app, 'ImmutagScp', {
      description: 'immutag: Service Control Policies guarding ECR tag immutability',
      policyFiles: files.map(resolvePath),
      targetIds: targets,
      exemptionTagKey,
    });
  } else if (str(app, CONTEXT_KEYS.scpPolicyFile) !== undefined) {
    throw ctxError(CONTEXT_KEYS.scpPolicyFile, 'is set but immutag:scpTargets is not; give the OU, account or root ids to attach the SCPs to');
  }

  let executionRole: ImmutagExecutionRoleStack | undefined;
  const trustedRoleArn = str(app, CONTEXT_KEYS.trustedRoleArn);
  if (bool(app, CONTEXT_KEYS.executionRoleStack, false)) {
    if (executionRoleName === undefined) {
      throw ctxError(CONTEXT_KEYS.executionRoleStack, 'needs immutag:executionRoleName, the name of the role to create');
    }
    if (trustedRoleArn === undefined) {
      throw ctxError(CONTEXT_KEYS.executionRoleStack, 'needs immutag:trustedRoleArn, the FunctionRoleArn output of ImmutagRule');
    }
    executionRole = new ImmutagExecutionRoleStack(app, 'ImmutagExecutionRole', {
      description: 'immutag: the role the central Config rule Lambda assumes in this account (deploy with a StackSet)',
      roleName: executionRoleName,
      trustedRoleArn,
      remediation,
      readTags: exemptionTagKey !== undefined,
    });
  } else if (trustedRoleArn !== undefined) {
    throw ctxError(CONTEXT_KEYS.trustedRoleArn, 'is set but immutag:executionRoleStack is not true');
  }

  let example: ImmutagExampleStack | undefined;
  if (bool(app, CONTEXT_KEYS.example, false)) {
    example = new ImmutagExampleStack(app, 'ImmutagExample', {
      description: 'immutag: an example ECR repository with immutable tags',
      repositoryName: str(app, CONTEXT_KEYS.exampleRepositoryName),
    });
  }

  if (bool(app, CONTEXT_KEYS.nag, true)) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  }
  return { rule, scp, example, executionRole };
}
