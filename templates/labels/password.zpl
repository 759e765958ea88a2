^XA
^CI28
^PW800
^LL400
^FO30,25^A0N,34,34^FDimprint device^FS
^FO30,75^A0N,28,28^FDID {{device_id}}^FS
^FO30,115^A0N,28,28^FDPassword {{password}}^FS
^FO30,155^A0N,20,20^FDOrder {{order}}  Serial {{serial}}^FS
^FO590,20^BQN,2,4^FDQA,imprint:{{device_id}}?password={{password}}^FS
^FO30,215^BY2^BCN,90,Y,N,N^FD{{label_code}}^FS
^XZ
