// Original file: proto/bulwark/v1/controller.proto


export interface ListCatalogBackupsRequest {
  'vm'?: (string);
  'site'?: (string);
}

export interface ListCatalogBackupsRequest__Output {
  'vm': (string);
  'site': (string);
}
