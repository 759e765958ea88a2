^XA
^CI28
^PW800
^LL400
^FO30,20^BQN,2,6^FDMA,{{matter_qr}}^FS
^FO300,35^A0N,26,26^FDSetup code^FS
^FO300,70^A0N,40,40^FD{{matter_manual_code}}^FS
^FO300,130^A0N,22,22^FDVID {{matter_vendor_id}}  PID {{matter_product_id}}^FS
^FO300,160^A0N,22,22^FDID {{device_id}}^FS
^FO30,250^BY2^BCN,80,Y,N,N^FD{{label_code}}^FS
^XZ
