import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, DEFAULT_SCP_FILE, ImmutagScpStack, readScp, SCP_MAX_BYTES } from '../lib';
import { CDK_DIR } from '../lib/app';
import { offlineApp, placeholderAsset } from './helpers';

const asset = placeholderAsset();
const fixture = path.join(__dirname, 'fixtures', 'scp-fixture.json');
const policiesDir = path.resolve(__dirname, '..', '..', 'policies');

function build(context: Record<string, unknown>) {
  const app = offlineApp({ 'immutag:lambdaAsset': asset, ...context });
  return { app, ...buildApp(app) };
}

function tmpJson(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'immutag-scp-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('the app from context', () => {
  test('defaults: only the rule stack, report only, change-triggered, arm64', () => {
    const { app, rule, scp, example } = build({});
    expect(scp).toBeUndefined();
    expect(example).toBeUndefined();
    expect(app.node.children.filter((c) => c instanceof Stack).map((s) => s.node.id)).toEqual(['ImmutagRule']);
    const t = Template.fromStack(rule);
    t.hasResourceProperties('AWS::Config::ConfigRule', { InputParameters: { Remediation: 'NONE' } });
    t.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['arm64'] });
    expect(Object.values(t.findResources('AWS::Config::ConfigRule'))[0].Properties.Source.SourceDetails).toHaveLength(2);
  });

  test('context values become typed props and rule parameters', () => {
    const { rule } = build({
      'immutag:remediation': 'IMMUTABLE',
      'immutag:frequency': 'Twelve_Hours',
      'immutag:architecture': 'x86_64',
      'immutag:allowedExclusionFilters': 'latest, nightly-*',
      'immutag:exemptRepositoryPatterns': ['sandbox-*'],
      'immutag:exemptionTagKey': 'immutag:exempt',
      'immutag:executionRoleName': 'ImmutagPlatform',
      'immutag:ruleName': 'ecr-tags',
      'immutag:roleName': 'ImmutagPlatform',
      'immutag:logRetentionDays': '365',
      'immutag:timeoutSeconds': 600,
    });
    const t = Template.fromStack(rule);
    t.hasResourceProperties('AWS::Config::ConfigRule', {
      ConfigRuleName: 'ecr-tags',
      MaximumExecutionFrequency: 'Twelve_Hours',
      InputParameters: {
        AllowedExclusionFilters: 'latest,nightly-*',
        ExemptRepositoryPatterns: 'sandbox-*',
        ExemptionTagKey: 'immutag:exempt',
        ExecutionRoleName: 'ImmutagPlatform',
        Remediation: 'IMMUTABLE',
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'], Timeout: 600 });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    t.hasResourceProperties('AWS::IAM::Role', { RoleName: 'ImmutagPlatform' });
  });

  test.each([
    [{ 'immutag:remediation': 'yes' }, /immutag:remediation: expected IMMUTABLE .* or NONE/],
    [{ 'immutag:frequency': 'Hourly' }, /immutag:frequency: `Hourly` is not a Config frequency/],
    [{ 'immutag:architecture': 'riscv' }, /immutag:architecture: `riscv`/],
    [{ 'immutag:logRetentionDays': '10' }, /immutag:logRetentionDays: 10 is not a CloudWatch Logs retention/],
    [{ 'immutag:timeoutSeconds': '901' }, /at most 900/],
    [{ 'immutag:remidiation': 'NONE' }, /unknown context key immutag:remidiation/],
    [{ 'immutag:example': 'maybe' }, /immutag:example: expected true or false/],
    [{ 'immutag:allowedExclusionFilters': '*' }, /AllowedExclusionFilters: `\*` matches every tag/],
    [{ 'immutag:roleName': 'a/b' }, /roleName `a\/b` is not an IAM role name/],
    [{ 'immutag:scpPolicyFile': fixture }, /immutag:scpPolicyFile: is set but immutag:scpTargets is not/],
    [{ 'immutag:lambdaAsset': '/nonexistent/immutag' }, /does not exist/],
  ])('%j is refused', (context, message) => {
    expect(() => build(context)).toThrow(message);
  });

  test('remediation NONE and false both mean report only; true means IMMUTABLE', () => {
    for (const [value, wire] of [['NONE', 'NONE'], [false, 'NONE'], ['false', 'NONE'], [true, 'IMMUTABLE'], ['immutable', 'IMMUTABLE']] as const) {
      const { rule } = build({ 'immutag:remediation': value });
      Template.fromStack(rule).hasResourceProperties('AWS::Config::ConfigRule', { InputParameters: { Remediation: wire } });
    }
  });

  test('relative paths resolve against cdk/, and the default SCP is the baseline golden file', () => {
    expect(path.resolve(CDK_DIR, DEFAULT_SCP_FILE)).toBe(path.join(policiesDir, 'baseline.json'));
  });
});

describe('SCP stack', () => {
  test('each golden file becomes a SERVICE_CONTROL_POLICY with that content, attached to the targets', () => {
    const { scp } = build({
      'immutag:scpTargets': 'ou-ab12-abcd1234,123456789012,r-ab12',
      'immutag:scpPolicyFile': fixture,
    });
    expect(scp).toBeDefined();
    const t = Template.fromStack(scp!);
    t.resourceCountIs('AWS::Organizations::Policy', 1);
    t.hasResourceProperties('AWS::Organizations::Policy', {
      Name: 'immutag-scp-fixture',
      Type: 'SERVICE_CONTROL_POLICY',
      Content: JSON.parse(fs.readFileSync(fixture, 'utf8')),
      TargetIds: ['ou-ab12-abcd1234', '123456789012', 'r-ab12'],
    });
  });

  test('without immutag:scpPolicyFile the stack deploys policies/baseline.json', () => {
    const { scp } = build({ 'immutag:scpTargets': 'ou-ab12-abcd1234' });
    Template.fromStack(scp!).hasResourceProperties('AWS::Organizations::Policy', {
      Name: 'immutag-baseline',
      Content: JSON.parse(fs.readFileSync(path.join(policiesDir, 'baseline.json'), 'utf8')),
      TargetIds: ['ou-ab12-abcd1234'],
    });
  });

  test('several files, one policy each', () => {
    const other = tmpJson('immutag-other.json', fs.readFileSync(fixture, 'utf8'));
    const { scp } = build({ 'immutag:scpTargets': ['123456789012'], 'immutag:scpPolicyFile': [fixture, other] });
    const names = Object.values(Template.fromStack(scp!).findResources('AWS::Organizations::Policy')).map((r) => r.Properties.Name);
    expect(names).toEqual(['immutag-scp-fixture', 'immutag-other']);
  });

  test.each([
    ['bad target', { 'immutag:scpTargets': 'ou-bad', 'immutag:scpPolicyFile': fixture }, /SCP target `ou-bad`/],
    ['duplicate target', { 'immutag:scpTargets': '123456789012,123456789012', 'immutag:scpPolicyFile': fixture }, /listed twice/],
    ['missing file', { 'immutag:scpTargets': '123456789012', 'immutag:scpPolicyFile': '/nonexistent/p.json' }, /cannot be read/],
  ])('%s is refused', (_name, context, message) => {
    expect(() => build(context)).toThrow(message);
  });

  test.each([
    ['not JSON', '{"Version":', /not valid JSON/],
    ['wrong version', '{"Version":"2008-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*"}]}', /Version must be "2012-10-17"/],
    ['principal', '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*","Resource":"*"}]}', /Principal/],
    ['no statement', '{"Version":"2012-10-17"}', /no Statement/],
  ])('a policy file that is %s is refused', (_name, content, message) => {
    expect(() => readScp(tmpJson('p.json', content))).toThrow(message);
  });

  test('a policy over the 5,120-byte limit (minified) is refused; at the limit it passes', () => {
    const make = (n: number) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(n), Effect: 'Deny', Action: 'ecr:PutImageTagMutability', Resource: '*' }] });
    const base = make(0).length;
    // Pretty-printed whitespace does not count: the limit applies to what is uploaded.
    const atLimit = tmpJson('at.json', JSON.stringify(JSON.parse(make(SCP_MAX_BYTES - base)), null, 2));
    expect(readScp(atLimit).minified.length).toBe(SCP_MAX_BYTES);
    expect(() => readScp(tmpJson('over.json', make(SCP_MAX_BYTES - base + 1)))).toThrow(/5121 bytes minified, over the 5120 limit/);
  });

  test('every golden file in policies/ is a valid SCP that the stack deploys', () => {
    const files = fs.existsSync(policiesDir) ? fs.readdirSync(policiesDir).filter((f) => f.endsWith('.json')) : [];
    if (files.length === 0) {
      throw new Error(`no golden SCP files in ${policiesDir}: they come from the scp branch (immutag scp generate --out policies/)`);
    }
    expect(files).toContain('baseline.json');
    // At most 5 SCPs per target: one stack per group of 5 files.
    for (let start = 0; start < files.length; start += 5) {
      const group = files.slice(start, start + 5);
      const stack = new ImmutagScpStack(offlineApp(), 'Scp', { policyFiles: group.map((f) => path.join(policiesDir, f)), targetIds: ['r-ab12'] });
      const t = Template.fromStack(stack);
      t.resourceCountIs('AWS::Organizations::Policy', group.length);
      for (const f of group) {
        const doc = JSON.parse(fs.readFileSync(path.join(policiesDir, f), 'utf8'));
        t.hasResourceProperties('AWS::Organizations::Policy', { Name: `immutag-${f.replace(/\.json$/, '')}`, Content: doc, Type: 'SERVICE_CONTROL_POLICY' });
      }
    }
  });
});

describe('example stack', () => {
  test('the repository the app creates is IMMUTABLE and scans on push', () => {
    const { example } = build({ 'immutag:example': 'true' });
    const t = Template.fromStack(example!);
    t.resourceCountIs('AWS::ECR::Repository', 1);
    t.hasResourceProperties('AWS::ECR::Repository', {
      ImageTagMutability: 'IMMUTABLE',
      ImageScanningConfiguration: { ScanOnPush: true },
    });
  });
});

describe('synthesis with cdk-nag as a validation plugin', () => {
  test('every stack synthesizes with no AwsSolutions finding', () => {
    const { app } = build({
      'immutag:example': true,
      'immutag:remediation': 'IMMUTABLE',
      'immutag:executionRoleName': 'ImmutagPlatform',
      'immutag:frequency': 'TwentyFour_Hours',
      'immutag:scpTargets': 'r-ab12',
      'immutag:scpPolicyFile': fixture,
    });
    const assembly = app.synth();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['ImmutagExample', 'ImmutagRule', 'ImmutagScp']);
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  test('an unacknowledged finding fails synthesis (the plugin is live)', () => {
    const app = offlineApp();
    const stack = new Stack(app, 'Bad');
    new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSConfigRulesExecutionRole')],
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM4/);
  });
});
