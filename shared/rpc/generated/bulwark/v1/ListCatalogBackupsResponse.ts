// Original file: proto/bulwark/v1/controller.proto

import type { CatalogBackup as _bulwark_v1_CatalogBackup, CatalogBackup__Output as _bulwark_v1_CatalogBackup__Output } from '../../bulwark/v1/CatalogBackup.js';

export interface ListCatalogBackupsResponse {
  'backups'?: (_bulwark_v1_CatalogBackup)[];
}

export interface ListCatalogBackupsResponse__Output {
  'backups': (_bulwark_v1_CatalogBackup__Output)[];
}
