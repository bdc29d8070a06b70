export { type BadLine, type BadLineSummary, describeBadLines } from './bad-lines';
export { NoUsableRowsError, SparseIdsError } from './errors';
export { hasPurchased, pairUsers, type PurchaseHistory, type PurchaseStats, PurchaseHistoryBuilder } from './purchase-history';
export { DEFAULT_MAX_ID, type ReadOptions } from './read-options';
export { readPurchases, TRANSACTIONS_HEADER } from './read-transactions';
export { readUsers, USERS_HEADER, type UserList } from './read-users';
