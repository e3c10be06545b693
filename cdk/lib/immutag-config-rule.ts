import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ImmutagLambdaCode } from './lambda-code';
import { ImmutagRuleParameters, renderRuleParameters } from './rule-parameters';

/** The CloudFormation resource type the rule evaluates. */
export const ECR_REPOSITORY_RESOURCE_TYPE = 'AWS::ECR::Repository';

/** Properties of {@link ImmutagConfigRule}. */
export interface ImmutagConfigRuleProps {
  /** Where the Lambda's `bootstrap` comes from. */
  readonly code: ImmutagLambdaCode;
  /**
   * The rule's parameters (allowed exclusion filters, exemptions, execution role).
   * @default - none: only IMMUTABLE repositories are COMPLIANT
   */
  readonly parameters?: ImmutagRuleParameters;
  /**
   * Auto-remediation: the Lambda switches NON_COMPLIANT, non-exempt repositories to
   * IMMUTABLE (`Remediation=IMMUTABLE`) and its role gets `ecr:PutImageTagMutability`.
   * @default false (report only, `Remediation=NONE`)
   */
  readonly remediation?: boolean;
  /**
   * Also evaluate every repository periodically at this frequency (a ScheduledNotification
   * trigger) on top of the change-triggered evaluations.
   * @default - no periodic evaluation
   */
  readonly frequency?: config.MaximumExecutionFrequency;
  /**
   * The Lambda's instruction set; the binary must be built for it (`--arm64` / `--x86-64`).
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Name of the Config rule.
   * @default 'immutag-ecr-tag-immutability'
   */
  readonly ruleName?: string;
  /**
   * How long the Lambda's logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN (evaluation logs are audit evidence)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Memory of the Lambda in MiB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Invocation timeout (a periodic run lists and reports every repository of the account).
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * `RUST_LOG`-style log filter for the Lambda.
   * @default 'info'
   */
  readonly logLevel?: string;
}

/**
 * immutag's AWS Config custom rule: the Rust Lambda (`provided.al2023`), its log group and
 * least-privilege role, the invoke permission for AWS Config, and the rule itself, scoped to
 * `AWS::ECR::Repository` and triggered by configuration changes (normal and oversized) and,
 * when a frequency is given, periodically.
 */
export class ImmutagConfigRule extends Construct {
  /** The evaluating Lambda. */
  public readonly function: lambda.Function;
  /** The Lambda's execution role. */
  public readonly role: iam.Role;
  /** The Lambda's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The Config rule. */
  public readonly rule: config.CfnConfigRule;
  /** The rule parameters as deployed (Config's wire form). */
  public readonly inputParameters: Record<string, string>;

  constructor(scope: Construct, id: string, props: ImmutagConfigRuleProps) {
    super(scope, id);
    const remediation = props.remediation ?? false;
    const parameters = props.parameters ?? {};
    this.inputParameters = renderRuleParameters(parameters, remediation);
    const executionRoleName = this.inputParameters.ExecutionRoleName;
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const ruleName = props.ruleName ?? 'immutag-ecr-tag-immutability';

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const repositories = `arn:${Aws.PARTITION}:ecr:${Aws.REGION}:${Aws.ACCOUNT_ID}:repository/*`;
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReportEvaluations',
        // PutEvaluations and GetResourceConfigHistory have no resource-level permissions.
        actions: ['config:PutEvaluations', 'config:GetResourceConfigHistory'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ReadPreviousEvaluations',
        actions: ['config:GetComplianceDetailsByConfigRule'],
        resources: [`arn:${Aws.PARTITION}:config:${Aws.REGION}:${Aws.ACCOUNT_ID}:config-rule/*`],
      }),
      new iam.PolicyStatement({
        sid: 'ReadRepositories',
        actions: ['ecr:DescribeRepositories'],
        resources: [repositories],
      }),
    ];
    if (remediation) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'RemediateToImmutable',
          actions: ['ecr:PutImageTagMutability'],
          resources: [repositories],
        }),
      );
    }
    if (executionRoleName) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'AssumeExecutionRole',
          actions: ['sts:AssumeRole'],
          resources: [`arn:${Aws.PARTITION}:iam::*:role/${executionRoleName}`],
        }),
      );
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `immutag Config rule ${ruleName}: evaluates ECR tag mutability${remediation ? ' and remediates to IMMUTABLE' : ''}`,
      inlinePolicies: { ImmutagRule: new iam.PolicyDocument({ statements }) },
    });

    this.function = props.code.createFunction(this, 'Function', {
      role: this.role,
      architecture,
      logGroup: this.logGroup,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(5),
      environment: { RUST_LOG: props.logLevel ?? 'info' },
      description: `immutag: AWS Config custom rule ${ruleName} (ECR tag immutability)`,
    });

    const permission = new lambda.CfnPermission(this, 'ConfigInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: this.function.functionArn,
      principal: 'config.amazonaws.com',
      sourceAccount: Aws.ACCOUNT_ID,
    });

    const sourceDetails: config.CfnConfigRule.SourceDetailProperty[] = [
      { eventSource: 'aws.config', messageType: 'ConfigurationItemChangeNotification' },
      { eventSource: 'aws.config', messageType: 'OversizedConfigurationItemChangeNotification' },
    ];
    if (props.frequency !== undefined) {
      sourceDetails.push({
        eventSource: 'aws.config',
        messageType: 'ScheduledNotification',
        maximumExecutionFrequency: props.frequency,
      });
    }

    this.rule = new config.CfnConfigRule(this, 'Rule', {
      configRuleName: ruleName,
      description:
        'immutag: an ECR repository is COMPLIANT only when its image tags are IMMUTABLE (or IMMUTABLE_WITH_EXCLUSION with allowed filters only).',
      scope: { complianceResourceTypes: [ECR_REPOSITORY_RESOURCE_TYPE] },
      source: {
        owner: 'CUSTOM_LAMBDA',
        sourceIdentifier: this.function.functionArn,
        sourceDetails,
      },
      inputParameters: this.inputParameters,
      maximumExecutionFrequency: props.frequency,
    });
    // Config checks that it may invoke the function when the rule is created.
    this.rule.node.addDependency(permission);
    this.rule.node.addDependency(this.function);

    const reasons: { id: string; reason: string; appliesTo: string[] }[] = [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'config:PutEvaluations and config:GetResourceConfigHistory support no resource-level permissions (Service Authorization Reference), so their Resource is *.',
        appliesTo: ['Resource::*'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'The rule evaluates every ECR repository of its own account and region, whose names are not known at deploy time; the wildcard stays inside this account and region.',
        appliesTo: [`Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*`],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'A Config rule ARN carries a generated id (config-rule/config-rule-xxxx) that cannot be referenced from the Lambda role without a dependency cycle; scoped to this account and region.',
        appliesTo: [`Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:config-rule/*`],
      },
    ];
    if (executionRoleName) {
      reasons.push({
        id: 'AwsSolutions-IAM5',
        reason:
          'ExecutionRoleName: the Lambda assumes the one named role in whichever member account sent the event; the account id is the only wildcard.',
        appliesTo: [`Resource::arn:<AWS::Partition>:iam::*:role/${executionRoleName}`],
      });
    }
    // cdk-nag v3 findings are acknowledged one by one (rule id + the finding), each with its reason.
    for (const r of reasons) {
      for (const finding of r.appliesTo) {
        Validations.of(this.role).acknowledge({ id: `${r.id}[${finding}]`, reason: r.reason });
      }
    }
  }
}
