# The plugin SDK's metadata, installed next to the headers (core/) and
# libcsmetrics-testkit.a: pkg-config files csmetrics-plugin and
# csmetrics-testkit, and the CMake package csmetrics (targets
# csmetrics::plugin, csmetrics::testkit). Both locate the install from
# where they are read (${pcfiledir}, PACKAGE_PREFIX_DIR): no prefix is
# written in, so a moved install keeps working.
include(CMakePackageConfigHelpers)

# What the test kit links besides itself: csmcore's libraries, by their
# pkg-config names (CMakeLists.txt finds the same ones).
set(CSM_SDK_PC_MODULES rdkafka avro-c hiredis yaml-0.1 jansson libcrypto libmicrohttpd libcurl)
list(JOIN CSM_SDK_PC_MODULES ", " CSM_SDK_PC_REQUIRES)
list(JOIN CSM_SDK_PC_MODULES " " CSM_SDK_PC_MODULE_LIST)
file(RELATIVE_PATH CSM_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" CSM_PC_TO_PREFIX "${CSM_PC_TO_PREFIX}")

set(sdk_out ${CMAKE_BINARY_DIR}/sdk)
foreach(pc csmetrics-plugin csmetrics-testkit)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${sdk_out}/${pc}.pc @ONLY)
  install(FILES ${sdk_out}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

set(cmake_dest ${CMAKE_INSTALL_LIBDIR}/cmake/csmetrics)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/csmetricsConfig.cmake.in
  ${sdk_out}/csmetricsConfig.cmake INSTALL_DESTINATION ${cmake_dest}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CSM_PLUGIN_INSTALL_DIR
            CSM_SCHEMA_INSTALL_DIR)
# 0.x: a minor version may change the test kit's API, and the plugin ABI
# has its own check at load time (plugin.h).
write_basic_package_version_file(${sdk_out}/csmetricsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${sdk_out}/csmetricsConfig.cmake ${sdk_out}/csmetricsConfigVersion.cmake
        DESTINATION ${cmake_dest})
