import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as config from 'aws-cdk-lib/aws-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ImmutagConfigRule,
  ImmutagConfigRuleProps,
  ImmutagLambdaCode,
  ImmutagRuleStack,
} from '../lib';
import { flatten, grantedActions, offlineApp, placeholderAsset, roleStatements } from './helpers';

const asset = placeholderAsset();

function synth(rule: Partial<ImmutagConfigRuleProps> = {}): { template: Template; stack: ImmutagRuleStack } {
  const app = offlineApp();
  const stack = new ImmutagRuleStack(app, 'Rule', {
    rule: { code: ImmutagLambdaCode.fromAsset(asset), ...rule },
  });
  return { template: Template.fromStack(stack), stack };
}

const BASE_ACTIONS = [
  'config:GetComplianceDetailsByConfigRule',
  'config:GetResourceConfigHistory',
  'config:PutEvaluations',
  'ecr:DescribeRepositories',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
];

describe('IAM role: only what the rule uses', () => {
  test('report only: no PutImageTagMutability, no AssumeRole', () => {
    const { template } = synth({ remediation: false });
    expect(grantedActions(template)).toEqual(BASE_ACTIONS);
    // No managed policy (AWSConfigRulesExecutionRole or AWSLambdaBasicExecutionRole) sneaks in.
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::Role', 1);
  });

  test('remediation on adds exactly ecr:PutImageTagMutability on this account\'s repositories', () => {
    const { template } = synth({ remediation: true });
    expect(grantedActions(template)).toEqual([...BASE_ACTIONS, 'ecr:PutImageTagMutability'].sort());
    const st = roleStatements(template).find((s) => s.Action.includes('ecr:PutImageTagMutability'));
    expect(st?.Effect).toBe('Allow');
    expect(st?.Action).toEqual(['ecr:PutImageTagMutability']);
    expect(flatten(st?.Resource)).toBe('arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*');
  });

  test('ExecutionRoleName adds sts:AssumeRole on that role name in any account, nothing else', () => {
    const { template } = synth({ parameters: { executionRoleName: 'ImmutagExecution' } });
    expect(grantedActions(template)).toEqual([...BASE_ACTIONS, 'sts:AssumeRole'].sort());
    const st = roleStatements(template).find((s) => s.Action.includes('sts:AssumeRole'));
    expect(st?.Action).toEqual(['sts:AssumeRole']);
    expect(flatten(st?.Resource)).toBe('arn:${AWS::Partition}:iam::*:role/ImmutagExecution');
  });

  test('a periodic sweep adds ecr:DescribeRepositoryCreationTemplates (templates are read live), on Resource *', () => {
    const { template } = synth({ frequency: config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS });
    expect(grantedActions(template)).toEqual([...BASE_ACTIONS, 'ecr:DescribeRepositoryCreationTemplates'].sort());
    const st = roleStatements(template).find((s) => s.Action.includes('ecr:DescribeRepositoryCreationTemplates'));
    expect(st?.Action).toEqual(['ecr:DescribeRepositoryCreationTemplates']);
    expect(flatten(st?.Resource)).toBe('*');
    // The rule's scope stays the repository type: template change events are not accepted.
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      Scope: { ComplianceResourceTypes: ['AWS::ECR::Repository'] },
    });
  });

  test('ExemptionTagKey adds ecr:ListTagsForResource (DescribeRepositories returns no tags)', () => {
    const { template } = synth({ parameters: { exemptionTagKey: 'immutag:exempt' } });
    expect(grantedActions(template)).toEqual([...BASE_ACTIONS, 'ecr:ListTagsForResource'].sort());
    const st = roleStatements(template).find((s) => s.Action.includes('ecr:ListTagsForResource'));
    expect(flatten(st?.Resource)).toBe('arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*');
  });

  test('remediation and ExecutionRoleName together', () => {
    const { template } = synth({ remediation: true, parameters: { executionRoleName: 'Org-Immutag' } });
    expect(grantedActions(template)).toEqual(
      [...BASE_ACTIONS, 'ecr:PutImageTagMutability', 'sts:AssumeRole'].sort(),
    );
  });

  test('resources are scoped: ECR and Config rules to this account, logs to the own log group', () => {
    const { template } = synth();
    const byAction = new Map(roleStatements(template).flatMap((s) => s.Action.map((a) => [a, flatten(s.Resource)] as const)));
    expect(byAction.get('ecr:DescribeRepositories')).toBe('arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*');
    expect(byAction.get('config:GetComplianceDetailsByConfigRule')).toBe(
      'arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*',
    );
    expect(byAction.get('config:PutEvaluations')).toBe('*');
    const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
    expect(byAction.get('logs:PutLogEvents')).toBe(`\${${logGroup}.Arn}`);
    // Every statement allows; none is a wildcard action.
    for (const s of roleStatements(template)) {
      expect(s.Effect).toBe('Allow');
      for (const a of s.Action) expect(a).not.toMatch(/\*/);
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
    });
  });
});

describe('Config rule', () => {
  test('scoped to ECR repositories, change-triggered (normal and oversized), no periodic by default', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Config::ConfigRule', 1);
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      ConfigRuleName: 'immutag-ecr-tag-immutability',
      Scope: { ComplianceResourceTypes: ['AWS::ECR::Repository'] },
      Source: {
        Owner: 'CUSTOM_LAMBDA',
        SourceIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('Function'), 'Arn'] },
        SourceDetails: [
          { EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' },
          { EventSource: 'aws.config', MessageType: 'OversizedConfigurationItemChangeNotification' },
        ],
      },
      MaximumExecutionFrequency: Match.absent(),
      InputParameters: { Remediation: 'NONE' },
    });
  });

  test('a frequency adds a ScheduledNotification trigger at that frequency', () => {
    const { template } = synth({ frequency: config.MaximumExecutionFrequency.SIX_HOURS });
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      MaximumExecutionFrequency: 'Six_Hours',
      Source: {
        SourceDetails: [
          { MessageType: 'ConfigurationItemChangeNotification' },
          { MessageType: 'OversizedConfigurationItemChangeNotification' },
          { EventSource: 'aws.config', MessageType: 'ScheduledNotification', MaximumExecutionFrequency: 'Six_Hours' },
        ],
      },
    });
  });

  test('parameters are rendered in Config\'s wire form (strings, comma-separated lists)', () => {
    const { template } = synth({
      remediation: true,
      parameters: {
        allowedExclusionFilters: ['latest', ' dev-* '],
        exemptRepositoryPatterns: ['sandbox-*', 'tools/*'],
        exemptionTagKey: 'immutag:exempt',
        executionRoleName: 'ImmutagExecution',
      },
    });
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      InputParameters: {
        AllowedExclusionFilters: 'latest,dev-*',
        ExemptRepositoryPatterns: 'sandbox-*,tools/*',
        ExemptionTagKey: 'immutag:exempt',
        ExecutionRoleName: 'ImmutagExecution',
        Remediation: 'IMMUTABLE',
      },
    });
  });

  test('the rule waits for the invoke permission; Config may invoke only from this account', () => {
    const { template } = synth();
    const perms = template.findResources('AWS::Lambda::Permission');
    expect(Object.keys(perms)).toHaveLength(1);
    const [permId, perm] = Object.entries(perms)[0];
    expect(perm.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [expect.stringMatching(/Function/), 'Arn'] },
      Principal: 'config.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    const rule = Object.values(template.findResources('AWS::Config::ConfigRule'))[0];
    expect(rule.DependsOn).toEqual(expect.arrayContaining([permId]));
  });
});

describe('Lambda and logs', () => {
  test('provided.al2023, bootstrap, arm64 by default, logs to a log group with retention', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('Logs') } },
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });

  test('x86_64 and a custom retention', () => {
    const { template } = synth({ architecture: lambda.Architecture.X86_64, logRetention: logs.RetentionDays.ONE_YEAR });
    template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('a prebuilt asset directory without bootstrap is refused with a message', () => {
    const app = offlineApp();
    const stack = new Stack(app, 'S');
    expect(
      () => new ImmutagConfigRule(stack, 'R', { code: ImmutagLambdaCode.fromAsset(path.join(__dirname, 'fixtures')) }),
    ).toThrow(/no file named `bootstrap`/);
    expect(
      () => new ImmutagConfigRule(stack, 'R2', { code: ImmutagLambdaCode.fromAsset('/nonexistent/immutag') }),
    ).toThrow(/does not exist.*cargo lambda build/);
  });

  test('cargo-lambda code source synthesizes without building when bundling is skipped', () => {
    const app = offlineApp();
    const stack = new ImmutagRuleStack(app, 'Rule', {
      rule: {
        code: ImmutagLambdaCode.fromCargo({ manifestPath: path.resolve(__dirname, '../../crates/immutag-lambda/Cargo.toml') }),
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
    });
  });
});

describe('rule parameters are validated at synth time, naming the key', () => {
  const cases: [Partial<ImmutagConfigRuleProps>, RegExp][] = [
    [{ parameters: { allowedExclusionFilters: ['*'] } }, /AllowedExclusionFilters: `\*` matches every tag/],
    [{ parameters: { allowedExclusionFilters: ['feature/x'] } }, /AllowedExclusionFilters: `feature\/x` is not a valid exclusion filter/],
    [{ parameters: { allowedExclusionFilters: ['a,b'] } }, /AllowedExclusionFilters: .*comma/],
    [{ parameters: { exemptRepositoryPatterns: ['Sandbox'] } }, /ExemptRepositoryPatterns: `Sandbox`/],
    [{ parameters: { exemptionTagKey: 'aws:foo' } }, /ExemptionTagKey: .*reserved/],
    [{ parameters: { exemptionTagKey: 'k'.repeat(129) } }, /ExemptionTagKey: .*128/],
    [{ parameters: { executionRoleName: 'arn:aws:iam::123456789012:role/x' } }, /ExecutionRoleName: .*not an IAM role name/],
  ];
  test.each(cases)('%j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('valid edge values pass', () => {
    expect(() => synth({ parameters: { allowedExclusionFilters: ['*-rc', 'v1.*'], executionRoleName: 'a'.repeat(64) } })).not.toThrow();
  });
});

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['report only', {}],
    ['remediation + execution role + periodic', {
      remediation: true,
      frequency: config.MaximumExecutionFrequency.ONE_HOUR,
      parameters: { executionRoleName: 'ImmutagExecution' },
    }],
  ] as [string, Partial<ImmutagConfigRuleProps>][])('%s: no unacknowledged finding', (_name, props) => {
    const { stack } = synth(props);
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('every acknowledgment carries a reason and names one wildcard resource of the role', () => {
    const { stack } = synth({ remediation: true, parameters: { executionRoleName: 'ImmutagExecution' } });
    const acks: { id: string; reason: string }[] = [];
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type === 'aws:cdk:acknowledged-rules') {
          for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
            // CDK records the id qualified with its namespace.
            acks.push({ id: id.replace(/^Annotation::/, ''), reason });
          }
        }
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^AwsSolutions-IAM5\[Resource::/);
      expect(a.reason.length).toBeGreaterThan(40);
    }
    // Exactly the wildcard resources of the role are acknowledged, nothing broader.
    expect(acks.map((a) => a.id).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:config-rule/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/ImmutagExecution]',
    ]);
  });

  test('the checks are live: the same kind of statement without a reason is reported', () => {
    const app = offlineApp();
    const stack = new Stack(app, 'Bare');
    new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        P: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['config:PutEvaluations'], resources: ['*'] })],
        }),
      },
    });
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-IAM5[Resource::*]');
  });
});
