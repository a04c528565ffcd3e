export const LOGGER = Symbol('LOGGER');
export const KAFKA = Symbol('KAFKA');
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const TOPICS_TO_ENSURE = Symbol('TOPICS_TO_ENSURE');
