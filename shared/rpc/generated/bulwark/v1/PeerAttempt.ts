// Original file: proto/bulwark/v1/controller.proto


export interface PeerAttempt {
  'site'?: (string);
  'error'?: (string);
}

export interface PeerAttempt__Output {
  'site': (string);
  'error': (string);
}
