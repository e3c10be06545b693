import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { ImmutagConfigError } from './rule-parameters';

/** What every immutag Lambda gets, whichever way its code is supplied. */
export interface ImmutagFunctionOptions {
  /** The execution role (created by the construct, least privilege). */
  readonly role: iam.IRole;
  /** Instruction set of the Lambda; the binary must be built for it. */
  readonly architecture: lambda.Architecture;
  /** Log group the function writes to. */
  readonly logGroup: logs.ILogGroup;
  /** Memory in MiB. */
  readonly memorySize: number;
  /** Invocation timeout. */
  readonly timeout: Duration;
  /** Environment variables of the function. */
  readonly environment: Record<string, string>;
  /** Function description. */
  readonly description: string;
}

/** Options for building the Lambda from source with cargo-lambda at synth time. */
export interface CargoLambdaOptions {
  /**
   * Path to the `Cargo.toml` of `crates/immutag-lambda` (or its directory).
   * Local bundling runs `cargo lambda build --release --arm64|--x86-64 --bin bootstrap` there.
   */
  readonly manifestPath: string;
  /**
   * The binary to build.
   * @default 'bootstrap'
   */
  readonly binaryName?: string;
}

/**
 * Where the Lambda's `bootstrap` comes from: built by cargo-lambda (`fromCargo`) when
 * deploying from a checkout, or a directory that already holds it (`fromAsset`), e.g.
 * `target/lambda/bootstrap/` after `cargo lambda build --release --arm64`, for CI and tests.
 */
export abstract class ImmutagLambdaCode {
  /**
   * A directory that contains an executable file named `bootstrap` built for the
   * function's architecture on Amazon Linux 2023 (`provided.al2023`).
   */
  public static fromAsset(directory: string): ImmutagLambdaCode {
    return new AssetCode(directory);
  }

  /** Build `bootstrap` from the Rust sources with cargo-lambda (cargo-lambda-cdk's RustFunction). */
  public static fromCargo(options: CargoLambdaOptions): ImmutagLambdaCode {
    return new CargoCode(options);
  }

  /** Creates the function in `scope`. */
  public abstract createFunction(scope: Construct, id: string, options: ImmutagFunctionOptions): lambda.Function;
}

class AssetCode extends ImmutagLambdaCode {
  constructor(private readonly directory: string) {
    super();
  }

  public createFunction(scope: Construct, id: string, options: ImmutagFunctionOptions): lambda.Function {
    const dir = path.resolve(this.directory);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      throw new ImmutagConfigError(
        `Lambda asset directory ${dir} does not exist; build it with \`cargo lambda build --release --arm64\` (it lands in target/lambda/bootstrap/) or pass the right path`,
      );
    }
    if (!stat.isDirectory()) {
      throw new ImmutagConfigError(`Lambda asset ${dir} is not a directory; give the directory that contains \`bootstrap\``);
    }
    const bootstrap = path.join(dir, 'bootstrap');
    if (!fs.existsSync(bootstrap) || !fs.statSync(bootstrap).isFile()) {
      throw new ImmutagConfigError(
        `Lambda asset directory ${dir} has no file named \`bootstrap\`; provided.al2023 runs that file`,
      );
    }
    return new lambda.Function(scope, id, {
      ...options,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(dir),
    });
  }
}

class CargoCode extends ImmutagLambdaCode {
  constructor(private readonly options: CargoLambdaOptions) {
    super();
  }

  public createFunction(scope: Construct, id: string, options: ImmutagFunctionOptions): lambda.Function {
    return new RustFunction(scope, id, {
      ...options,
      runtime: 'provided.al2023',
      manifestPath: this.options.manifestPath,
      binaryName: this.options.binaryName ?? 'bootstrap',
      bundling: { architecture: options.architecture },
    });
  }
}
