// The workflow bundle's entry: every workflow type the training worker hosts.
export { retrainAndDeploy } from './retrain-and-deploy';
export { rollbackDeployment } from './rollback';
export { retention } from './retention';
