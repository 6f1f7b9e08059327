// Original file: proto/bulwark/v1/controller.proto


export interface StartSyncRequest {
  'fromSite'?: (string);
  'toSite'?: (string);
}

export interface StartSyncRequest__Output {
  'fromSite': (string);
  'toSite': (string);
}
