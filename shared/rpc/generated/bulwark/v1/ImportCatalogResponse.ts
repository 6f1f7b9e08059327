// Original file: proto/bulwark/v1/controller.proto

import type { SkippedBackup as _bulwark_v1_SkippedBackup, SkippedBackup__Output as _bulwark_v1_SkippedBackup__Output } from '../../bulwark/v1/SkippedBackup.js';

export interface ImportCatalogResponse {
  'site'?: (string);
  'storageAddress'?: (string);
  'found'?: (number);
  'added'?: (number);
  'alreadyKnown'?: (number);
  'restored'?: (number);
  'updated'?: (number);
  'notAtStorage'?: (number);
  'skipped'?: (_bulwark_v1_SkippedBackup)[];
}

export interface ImportCatalogResponse__Output {
  'site': (string);
  'storageAddress': (string);
  'found': (number);
  'added': (number);
  'alreadyKnown': (number);
  'restored': (number);
  'updated': (number);
  'notAtStorage': (number);
  'skipped': (_bulwark_v1_SkippedBackup__Output)[];
}
