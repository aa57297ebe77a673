/**
 * Precomputed image features by image key: the reference's HDF5 file ({@link gemel.features.Hdf5ImageFeatures})
 * or the project's memory-mapped store ({@link gemel.features.FeatureStore}, written by
 * {@link gemel.features.FeatureStoreWriter}); {@link gemel.features.FeatureLookup} applies a
 * {@link gemel.features.MissingFeaturePolicy} to the records of a data set.
 */
package gemel.features;
