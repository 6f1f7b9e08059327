// Original file: proto/bulwark/v1/controller.proto


export interface StartVerifyRequest {
  'site'?: (string);
  'repair'?: (boolean);
}

export interface StartVerifyRequest__Output {
  'site': (string);
  'repair': (boolean);
}
