import { Template } from 'aws-cdk-lib/assertions';
import * as config from 'aws-cdk-lib/aws-config';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, ImmutagExecutionRoleStack, ImmutagLambdaCode, ImmutagRuleStack } from '../lib';
import { flatten, grantedActions, offlineApp, placeholderAsset, roleStatements } from './helpers';

const asset = placeholderAsset();
const TRUSTED = 'arn:aws:iam::111122223333:role/ImmutagRule-EcrTagImmutabilityRole';

describe('organization rule (one Lambda, a role in every member account)', () => {
  test('an OrganizationConfigRule with the same triggers, scope and parameters; no account rule', () => {
    const app = offlineApp();
    const stack = new ImmutagRuleStack(app, 'Org', {
      rule: {
        code: ImmutagLambdaCode.fromAsset(asset),
        organization: { excludedAccounts: ['444455556666'] },
        frequency: config.MaximumExecutionFrequency.TWELVE_HOURS,
        remediation: true,
        parameters: { executionRoleName: 'ImmutagPlatform', exemptRepositoryPatterns: ['sandbox-*'] },
      },
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Config::ConfigRule', 0);
    t.resourceCountIs('AWS::Config::OrganizationConfigRule', 1);
    const rule = Object.values(t.findResources('AWS::Config::OrganizationConfigRule'))[0];
    const meta = rule.Properties.OrganizationCustomRuleMetadata;
    expect(rule.Properties.OrganizationConfigRuleName).toBe('immutag-ecr-tag-immutability');
    expect(rule.Properties.ExcludedAccounts).toEqual(['444455556666']);
    expect(meta.OrganizationConfigRuleTriggerTypes).toEqual([
      'ConfigurationItemChangeNotification',
      'OversizedConfigurationItemChangeNotification',
      'ScheduledNotification',
    ]);
    expect(meta.ResourceTypesScope).toEqual(['AWS::ECR::Repository']);
    expect(meta.MaximumExecutionFrequency).toBe('Twelve_Hours');
    // Config's organization API takes the parameters as one JSON string.
    expect(JSON.parse(meta.InputParameters)).toEqual({
      ExemptRepositoryPatterns: 'sandbox-*',
      ExecutionRoleName: 'ImmutagPlatform',
      Remediation: 'IMMUTABLE',
    });
    // Member accounts' Config invokes the function: no single SourceAccount.
    const perm = Object.values(t.findResources('AWS::Lambda::Permission'))[0];
    expect(perm.Properties.Principal).toBe('config.amazonaws.com');
    expect(perm.Properties.SourceAccount).toBeUndefined();
    // Every event is served through the execution role: the function's own role may assume
    // it and write its logs, and has no ECR or Config action of its own (a foreign account's
    // event cannot make it read or change the central account's repositories).
    expect(grantedActions(t)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'sts:AssumeRole']);
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });

  test('without ExecutionRoleName an organization rule is refused', () => {
    expect(() => buildApp(offlineApp({ 'immutag:lambdaAsset': asset, 'immutag:organization': true }))).toThrow(
      /organization rule needs parameters.executionRoleName/,
    );
    expect(() => buildApp(offlineApp({ 'immutag:lambdaAsset': asset, 'immutag:excludedAccounts': '444455556666' }))).toThrow(
      /immutag:excludedAccounts: applies to an organization rule only/,
    );
  });
});

describe('execution role stack (for a StackSet)', () => {
  function roleStack(remediation: boolean) {
    const app = offlineApp();
    const stack = new ImmutagExecutionRoleStack(app, 'Exec', { roleName: 'ImmutagPlatform', trustedRoleArn: TRUSTED, remediation });
    return { stack, t: Template.fromStack(stack) };
  }

  test('trusts only the central Lambda role; grants what the rule uses in every region of the account', () => {
    const { stack, t } = roleStack(false);
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'ImmutagPlatform',
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: TRUSTED } }] },
    });
    expect(grantedActions(t)).toEqual([
      'config:GetComplianceDetailsByConfigRule',
      'config:GetResourceConfigHistory',
      'config:PutEvaluations',
      'ecr:DescribeRepositories',
      // the organization rule's periodic sweep reads creation templates live
      'ecr:DescribeRepositoryCreationTemplates',
    ]);
    const ecr = roleStatements(t).find((s) => s.Action.includes('ecr:DescribeRepositories'));
    expect(flatten(ecr?.Resource)).toBe('arn:${AWS::Partition}:ecr:*:${AWS::AccountId}:repository/*');
    const templates = roleStatements(t).find((s) => s.Action.includes('ecr:DescribeRepositoryCreationTemplates'));
    expect(templates?.Action).toEqual(['ecr:DescribeRepositoryCreationTemplates']);
    expect(flatten(templates?.Resource)).toBe('*');
    // No assets and no bootstrap-version check: deployable by a StackSet to accounts never bootstrapped.
    const json = t.toJSON();
    expect(json.Parameters?.BootstrapVersion).toBeUndefined();
    expect(json.Rules?.CheckBootstrapVersion).toBeUndefined();
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });

  test('remediation adds ecr:PutImageTagMutability; an exemption tag adds ecr:ListTagsForResource', () => {
    expect(grantedActions(roleStack(true).t)).toContain('ecr:PutImageTagMutability');
    expect(grantedActions(roleStack(false).t)).not.toContain('ecr:ListTagsForResource');
    const app = offlineApp();
    const stack = new ImmutagExecutionRoleStack(app, 'Tags', { roleName: 'R', trustedRoleArn: TRUSTED, remediation: false, readTags: true });
    expect(grantedActions(Template.fromStack(stack))).toContain('ecr:ListTagsForResource');
  });

  test('from context, with the errors that name what is missing', () => {
    const base = { 'immutag:lambdaAsset': asset, 'immutag:executionRoleStack': true };
    const { executionRole } = buildApp(offlineApp({ ...base, 'immutag:executionRoleName': 'ImmutagPlatform', 'immutag:trustedRoleArn': TRUSTED }));
    expect(executionRole).toBeDefined();
    expect(() => buildApp(offlineApp({ ...base, 'immutag:trustedRoleArn': TRUSTED }))).toThrow(/needs immutag:executionRoleName/);
    expect(() => buildApp(offlineApp({ ...base, 'immutag:executionRoleName': 'X' }))).toThrow(/needs immutag:trustedRoleArn/);
    expect(() =>
      buildApp(offlineApp({ ...base, 'immutag:executionRoleName': 'X', 'immutag:trustedRoleArn': '111122223333' })),
    ).toThrow(/is not an IAM role ARN/);
  });
});
