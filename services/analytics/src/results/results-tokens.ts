/** The results use cases the metrics refresher reads with: background reads, without the request deadline. */
export const BACKGROUND_RESULTS = Symbol('BACKGROUND_RESULTS');
export const BACKGROUND_UNATTRIBUTED = Symbol('BACKGROUND_UNATTRIBUTED');
