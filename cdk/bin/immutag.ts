#!/usr/bin/env node
// The CDK app: `npx cdk deploy` from cdk/. Every option is a context value (see docs/deploy.md).
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const app = new App();
buildApp(app);
app.synth();
