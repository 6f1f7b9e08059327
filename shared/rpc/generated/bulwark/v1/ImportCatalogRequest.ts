// Original file: proto/bulwark/v1/controller.proto


export interface ImportCatalogRequest {
  'storageAddress'?: (string);
  'site'?: (string);
}

export interface ImportCatalogRequest__Output {
  'storageAddress': (string);
  'site': (string);
}
