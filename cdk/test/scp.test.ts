import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, ImmutagScpStack, MAX_SCPS_PER_TARGET, protectedTagKeys, readScp } from '../lib';
import { offlineApp, placeholderAsset } from './helpers';

const asset = placeholderAsset();
const policiesDir = path.resolve(__dirname, '..', '..', 'policies');
const golden = (name: string) => path.join(policiesDir, `${name}.json`);

function build(context: Record<string, unknown>) {
  const app = offlineApp({ 'immutag:lambdaAsset': asset, ...context });
  return buildApp(app);
}

/** Copies of a golden file under other names (one Organizations policy each). */
function copies(n: number): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'immutag-scp-count-'));
  const text = fs.readFileSync(golden('lock-mutability'), 'utf8');
  return Array.from({ length: n }, (_, i) => {
    const file = path.join(dir, `copy-${i + 1}.json`);
    fs.writeFileSync(file, text);
    return file;
  });
}

describe('at most 5 SCPs per target (the Organizations limit)', () => {
  test('five files deploy, each attached to every target', () => {
    const stack = new ImmutagScpStack(offlineApp(), 'Scp', { policyFiles: copies(MAX_SCPS_PER_TARGET), targetIds: ['r-ab12', 'ou-ab12-abcd1234'] });
    Template.fromStack(stack).resourceCountIs('AWS::Organizations::Policy', 5);
  });

  test('six are refused, naming the count, the limit and FullAWSAccess', () => {
    expect(() => new ImmutagScpStack(offlineApp(), 'Scp', { policyFiles: copies(6), targetIds: ['r-ab12'] })).toThrow(
      /would attach 6 SCPs \(immutag-copy-1, .*immutag-copy-6\) to each target, but AWS Organizations attaches at most 5 .*FullAWSAccess/,
    );
    expect(() => build({ 'immutag:scpTargets': 'r-ab12', 'immutag:scpPolicyFile': copies(6) })).toThrow(/at most 5/);
  });
});

describe('the rule and the SCP share one exemption tag key', () => {
  const files = [golden('strict'), golden('protect-exemption-tag')];

  test('the key the rule exempts by is the key the SCP keeps for the exempt principals', () => {
    const { rule, scp } = build({ 'immutag:exemptionTagKey': 'immutag:exempt', 'immutag:scpTargets': 'r-ab12', 'immutag:scpPolicyFile': files });
    const ruleKey = Object.values(Template.fromStack(rule).findResources('AWS::Config::ConfigRule'))[0].Properties.InputParameters.ExemptionTagKey;
    expect(ruleKey).toBe('immutag:exempt');
    // Read back from what the SCP stack synthesized, not from the files given.
    const policies = Object.values(Template.fromStack(scp!).findResources('AWS::Organizations::Policy'));
    const keys = policies.flatMap((p) =>
      protectedTagKeys({ file: '', name: p.Properties.Name, document: p.Properties.Content, minified: '' }).map((k) => k.key),
    );
    expect(keys).toEqual([ruleKey]);
  });

  test('a rule key the SCPs do not protect is refused, naming both keys and the command that fixes it', () => {
    expect(() =>
      build({ 'immutag:exemptionTagKey': 'team:exempt', 'immutag:scpTargets': 'r-ab12', 'immutag:scpPolicyFile': files }),
    ).toThrow(/exempts repositories tagged team:exempt .* they protect immutag:exempt \(immutag-protect-exemption-tag\) instead.*--preset strict --exemption-tag-key team:exempt/);
  });

  test('a rule key with the default SCP (baseline, no tag protection) is refused', () => {
    expect(() => build({ 'immutag:exemptionTagKey': 'immutag:exempt', 'immutag:scpTargets': 'r-ab12' })).toThrow(
      /none of the SCPs \(immutag-baseline\) keeps that tag key/,
    );
  });

  test('the tag protection is matched as IAM compares it: without case for IgnoreCase', () => {
    const doc = readScp(golden('protect-exemption-tag'));
    expect(protectedTagKeys(doc)).toEqual([{ key: 'immutag:exempt', ignoreCase: true }]);
    const { scp } = build({ 'immutag:exemptionTagKey': 'Immutag:Exempt', 'immutag:scpTargets': 'r-ab12', 'immutag:scpPolicyFile': golden('protect-exemption-tag') });
    expect(scp).toBeDefined();
  });

  test('without an exemption tag key, no tag protection is required', () => {
    const { scp } = build({ 'immutag:scpTargets': 'r-ab12', 'immutag:scpPolicyFile': golden('strict') });
    Template.fromStack(scp!).resourceCountIs('AWS::Organizations::Policy', 1);
  });
});
